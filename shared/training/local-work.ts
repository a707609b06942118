/**
 * How far a client's local steps carry it, as FedNova (Wang et al. 2020, §4 and Appendix) counts
 * it: the ℓ1 norm of the vector a that weighs the client's τ gradients in its update. Plain SGD
 * weighs every gradient once (‖a‖₁ = τ); heavy-ball momentum ρ carries the j-th gradient
 * forward, (1 − ρ^(τ−j+1)) / (1 − ρ) times, so ‖a‖₁ = (τ − ρ(1 − ρ^τ)/(1 − ρ)) / (1 − ρ).
 * The client divides its update by it, the server multiplies the mean by the cohort's average.
 */
export function localWorkNorm(steps: number, momentum: number): number {
  if (!(momentum >= 0 && momentum < 1)) throw new RangeError(`local work: momentum must be in [0, 1) (got ${momentum})`);
  if (momentum === 0) return steps;
  return (steps - (momentum * (1 - momentum ** steps)) / (1 - momentum)) / (1 - momentum);
}
