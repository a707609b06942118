import { describe, expect, it } from 'vitest';
import {
  calibrateNoiseMultiplier,
  computeEpsilon,
  DEFAULT_ORDERS,
  DEFAULT_ORDERS_SUMMARY,
  epsilonFromRdp,
  type EpsilonConversion,
  RdpAccountant,
  rdpOfSampledGaussian,
} from '../../shared/privacy/rdp-accountant.js';

/** Opacus' RDPAccountant.DEFAULT_ALPHAS (opacus/accountants/rdp.py): 1.1, 1.2, …, 10.9, 12, …, 63. */
const OPACUS_ALPHAS = [...Array.from({ length: 99 }, (_, x) => 1 + (x + 1) / 10), ...Array.from({ length: 52 }, (_, i) => i + 12)];
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

function expectRelativelyClose(actual: number, expected: number, rtol: number): void {
  expect(Math.abs(actual - expected) / Math.abs(expected)).toBeLessThanOrEqual(rtol);
}

describe('RDP of the sampled Gaussian mechanism', () => {
  // tensorflow/privacy, tensorflow_privacy/privacy/analysis/rdp_accountant_test.py:
  // test_compute_rdp_no_data, test_compute_rdp_no_sampling, test_compute_rdp_scalar, test_compute_rdp_sequence.
  it('matches TensorFlow Privacy compute_rdp test values', () => {
    expect(rdpOfSampledGaussian(0, 10, [20])).toEqual([0]);
    expect(rdpOfSampledGaussian(1, 10, [20])).toEqual([0.1]);
    // compute_rdp(0.1, 2, steps=10, orders=5) ≈ 0.07737 (assertAlmostEqual places=5).
    expect(10 * rdpOfSampledGaussian(0.1, 2, [5])[0]!).toBeCloseTo(0.07737, 5);
    // compute_rdp(0.01, 2.5, steps=50, [1.5, 2.5, 5, 50, 100]), checked there with delta=1e-5.
    const expected = [0.00065, 0.001085, 0.00218075, 0.023846, 167.416307];
    const actual = rdpOfSampledGaussian(0.01, 2.5, [1.5, 2.5, 5, 50, 100]).map((r) => 50 * r);
    actual.forEach((r, k) => expect(Math.abs(r - expected[k]!)).toBeLessThan(1e-5));
  });

  // The parameter grid of TF Privacy's test_compute_log_a_equals_mp, which compares log A_α with
  // multi-precision numerical integration (rtol 1e-4). Expected RDP = log A_α / (α − 1) computed here
  // with mpmath at 40–60 digits: for integer α the exact binomial sum; for fractional α quadrature
  // of ∫ N(z; 0, σ²) ((1−q) + q·e^((2z−1)/(2σ²)))^α dz split into ¼-wide pieces so the sharply
  // peaked integrands (σ = 0.1) are resolved (that split reproduces the exact sums at α = 256 to
  // 15 digits). We hold ourselves to 1e-6, tighter than TF's 1e-4.
  it.each([
    { q: 1e-7, sigma: 0.1, order: 1.01, rdp: 4.0034123225263955e-6 },
    { q: 1e-6, sigma: 0.1, order: 256, rdp: 12786.130310969258 },
    { q: 1e-5, sigma: 0.1, order: 256.1, rdp: 12793.4419435062 },
    { q: 1e-6, sigma: 1, order: 27, rdp: 3.372888963403269e-11 },
    { q: 1e-4, sigma: 1, order: 1.5, rdp: 1.2885373907673299e-8 },
    { q: 1e-3, sigma: 1, order: 2, rdp: 1.7182803522145153e-6 },
    { q: 0.01, sigma: 10, order: 20, rdp: 1.0068263112022611e-5 },
    { q: 0.1, sigma: 100, order: 20.5, rdp: 1.0252214593881177e-5 },
    { q: 0.99, sigma: 0.1, order: 256, rdp: 12799.989910251063 },
    { q: 0.999, sigma: 100, order: 256.1, rdp: 0.012779725746660574 },
  ])('q=$q σ=$sigma α=$order agrees with a multi-precision computation', ({ q, sigma, order, rdp }) => {
    expectRelativelyClose(rdpOfSampledGaussian(q, sigma, [order])[0]!, rdp, 1e-6);
  });

  it('is α/(2σ²) without subsampling, Infinity without noise, 0 without sampling', () => {
    const orders = [1.5, 2, 7.25, 64, 512];
    expect(rdpOfSampledGaussian(1, 3, orders)).toEqual(orders.map((a) => a / 18));
    expect(rdpOfSampledGaussian(0.1, 0, orders)).toEqual(orders.map(() => Infinity));
    expect(rdpOfSampledGaussian(0, 0, orders)).toEqual(orders.map(() => 0));
  });

  it('stays finite and positive where the sums are extreme', () => {
    for (const [q, z] of [
      [1e-9, 0.05],
      [0.5, 0.05],
      [0.999999, 0.3],
      [0.01, 1e5],
    ] as const) {
      for (const r of rdpOfSampledGaussian(q, z)) {
        expect(Number.isFinite(r)).toBe(true);
        expect(r).toBeGreaterThan(0);
      }
    }
  });

  it('DEFAULT_ORDERS are Opacus’ default orders plus fedsim’s earlier ones, sorted, as DEFAULT_ORDERS_SUMMARY says', () => {
    // The same doubles as Opacus' 1 + x / 10.0, so an optimum at one of its orders is the same ε.
    for (const alpha of OPACUS_ALPHAS) expect(DEFAULT_ORDERS).toContain(alpha);
    const described = [...OPACUS_ALPHAS, 1.25, 1.75, 2.25, 11, 64, 128, 256, 512].sort((a, b) => a - b);
    expect(DEFAULT_ORDERS).toEqual(described);
    expect(DEFAULT_ORDERS_SUMMARY).toContain('1.1 to 10.9 in steps of 0.1, 1.25, 1.75, 2.25, every integer from 11 to 64, 128, 256 and 512');
  });

  // At (q, σ) = (½, 10⁵) the series for α = 1.1 ran past 100,000 terms and threw. Past that limit
  // the accountant takes the chord of log A_α between α = 1 and 2, an upper bound, so it must not
  // fall below the true RDP: 1.375e-11 by mpmath.quad at 40 digits of
  // ∫ N(z; 0, σ²) ((1−q) + q·e^((2z−1)/(2σ²)))^α dz (the python3 script of the table below).
  it('bounds RDP from above where the fractional series would need over 100,000 terms (q = ½, σ = 10⁵)', () => {
    const [atOnePointOne, atTwo] = rdpOfSampledGaussian(0.5, 1e5, [1.1, 2]);
    expect(atOnePointOne).toBeGreaterThanOrEqual(1.375e-11);
    expect(atOnePointOne).toBeLessThanOrEqual(atTwo!);
    for (const r of rdpOfSampledGaussian(0.5, 1e5)) expect(Number.isFinite(r) && r > 0).toBe(true);
  });
});

describe('RDP → (ε, δ)', () => {
  // TF Privacy test_get_privacy_spent_check_target_delta: constant RDP 1.1 on orders 2..32 (pure DP)
  // gives ε = 1.32783806176 at δ = 1e-5 at the largest order. That value is Balle et al.'s Thm 21:
  // 1.1 + log(31/32) − (log 1e-5 + log 32)/31.
  it('matches TF Privacy get_privacy_spent on a constant RDP curve', () => {
    const orders = range(2, 32);
    const { epsilon, order } = epsilonFromRdp(
      orders,
      orders.map(() => 1.1),
      1e-5,
      'tight',
    );
    expect(epsilon).toBeCloseTo(1.32783806176, 10);
    expect(order).toBe(32);
    // The classic bound by hand: 1.1 + log(1e5)/31.
    expect(
      epsilonFromRdp(
        orders,
        orders.map(() => 1.1),
        1e-5,
        'classic',
      ).epsilon,
    ).toBeCloseTo(1.1 + Math.log(1e5) / 31, 12);
  });

  // Same TF test, second part: the plain Gaussian with σ = 4.530877117 is exactly (1, 1e-6)-DP, and
  // the tight conversion over the fine order grid 1.000..99.999 finds ε = 1 (assertAlmostEqual, 7 places).
  it('recovers the exact (1, 1e-6) of a Gaussian mechanism from a fine order grid', () => {
    const orders = Array.from({ length: 99_000 }, (_, i) => (1000 + i) * 0.001).filter((a) => a > 1);
    const { epsilon } = computeEpsilon({ q: 1, noiseMultiplier: 4.530877117, steps: 1, delta: 1e-6, orders });
    expect(epsilon).toBeCloseTo(1, 7);
  });

  it('defaults to the tight conversion, which never exceeds the classic one', () => {
    const orders = [1.5, 2, 4, 16, 64];
    const rdp = [0.3, 0.5, 1.2, 5, 30];
    expect(epsilonFromRdp(orders, rdp, 1e-5)).toEqual(epsilonFromRdp(orders, rdp, 1e-5, 'tight'));
    for (const q of [0.001, 0.01, 0.1, 0.5, 1]) {
      for (const noiseMultiplier of [0.3, 0.7, 1, 2, 8]) {
        for (const steps of [1, 10, 1000]) {
          for (const delta of [1e-3, 1e-5, 1e-9]) {
            const tight = computeEpsilon({ q, noiseMultiplier, steps, delta, conversion: 'tight' }).epsilon;
            const classic = computeEpsilon({ q, noiseMultiplier, steps, delta, conversion: 'classic' }).epsilon;
            expect(tight).toBeLessThanOrEqual(classic);
          }
        }
      }
    }
  });

  it('is 0 when nothing depends on the data, Infinity when nothing is hidden', () => {
    expect(computeEpsilon({ q: 0, noiseMultiplier: 1, steps: 100, delta: 1e-5 }).epsilon).toBe(0);
    expect(computeEpsilon({ q: 0.1, noiseMultiplier: 1, steps: 0, delta: 1e-5 }).epsilon).toBe(0);
    expect(computeEpsilon({ q: 0.1, noiseMultiplier: 0, steps: 0, delta: 1e-5 }).epsilon).toBe(0);
    const noNoise = computeEpsilon({ q: 0.1, noiseMultiplier: 0, steps: 1, delta: 1e-5, conversion: 'classic' });
    expect(noNoise.epsilon).toBe(Infinity);
    // Theorem 21's bound dips below 0 for tiny RDP; ε is clamped, not negative.
    expect(epsilonFromRdp([2, 3], [1e-9, 1e-9], 0.5, 'tight').epsilon).toBe(0);
  });
});

describe('computeEpsilon', () => {
  // Abadi et al., "Deep Learning with Differential Privacy", CCS 2016, Section 3.1: "if q = 0.01,
  // σ = 4, δ = 10⁻⁵, and T = 10000, we have ε ≈ 1.26 using the moments accountant". The moments
  // accountant at λ is RDP at integer order α = λ + 1 with the classic conversion, and our optimum
  // is at the integer order 20, so the two agree up to the rounding of the published figure:
  // |ε − 1.26| ≤ 0.005.
  it('reproduces Abadi et al. 2016: ε ≈ 1.26 for q=0.01, σ=4, T=10,000, δ=1e-5', () => {
    const classic = computeEpsilon({ q: 0.01, noiseMultiplier: 4, steps: 10_000, delta: 1e-5, conversion: 'classic' });
    expect(Math.abs(classic.epsilon - 1.26)).toBeLessThanOrEqual(0.005);
    expect(classic.order).toBe(20);
    expect(classic.conversion).toBe('classic');
    // Integer orders alone (what the moments accountant uses) give the same optimum.
    expect(computeEpsilon({ q: 0.01, noiseMultiplier: 4, steps: 10_000, delta: 1e-5, conversion: 'classic', orders: range(2, 64) }).epsilon).toBeCloseTo(
      classic.epsilon,
      12,
    );
    // The tight conversion is what the default reports, and it is smaller.
    const tight = computeEpsilon({ q: 0.01, noiseMultiplier: 4, steps: 10_000, delta: 1e-5 });
    expect(tight.conversion).toBe('tight');
    expect(tight.epsilon).toBeCloseTo(1.0355, 4);
  });

  // pytorch/opacus, opacus/tests/accountants_test.py, test_rdp_accountant: z = 1.5, q = 0.04,
  // steps = int(90 / 0.04) = 2250, δ = 1e-5 → ε = 7.32911117143 (assertAlmostEqual, 7 places) with
  // Opacus' default alphas and its Balle et al. conversion.
  it('reproduces Opacus test_rdp_accountant (ε = 7.32911117143)', () => {
    const accountant = new RdpAccountant(OPACUS_ALPHAS);
    for (let i = 0; i < 2250; i++) accountant.step(0.04, 1.5);
    expect(accountant.epsilon(1e-5).epsilon).toBeCloseTo(7.32911117143, 7);
  });

  // The Opacus docstring example in opacus/accountants/analysis/rdp.py: (q, σ, steps) =
  // (1e-5, 1.0, 10) then (1e-4, 3.0, 4), orders 2..32, δ = 1e-5 → (ε, order) = (0.336, 23).
  it('reproduces the Opacus compute_rdp docstring example (0.336 at order 23)', () => {
    const accountant = new RdpAccountant(range(2, 32));
    accountant.step(1e-5, 1.0, 10);
    accountant.step(1e-4, 3.0, 4);
    const { epsilon, order } = accountant.epsilon(1e-5);
    expect(epsilon).toBeCloseTo(0.336, 3);
    expect(order).toBe(23);
  });

  // TF Privacy test_check_composition: two heterogeneous phases must stay within 8.509656, the
  // value the classic conversion gave before TF moved to a tighter one.
  it('composes heterogeneous phases within TF Privacy test_check_composition bound', () => {
    const orders = [1.25, 1.5, 1.75, 2, 2.5, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32, 64, 256];
    const accountant = new RdpAccountant(orders);
    accountant.step(1e-4, 0.4, 40_000);
    accountant.step(0.1, 2, 100);
    expect(accountant.epsilon(1e-5, 'classic').epsilon).toBeCloseTo(8.509656, 5);
    expect(accountant.epsilon(1e-5, 'tight').epsilon).toBeLessThanOrEqual(8.509656);
  });

  it('without subsampling equals the closed-form composition of T Gaussian mechanisms', () => {
    const orders = [1.5, 2, 3, 5, 8, 13, 21, 34];
    for (const [sigma, steps, delta] of [
      [1, 1, 1e-5],
      [2, 50, 1e-6],
      [5, 1000, 1e-3],
    ] as const) {
      const classic = computeEpsilon({ q: 1, noiseMultiplier: sigma, steps, delta, conversion: 'classic', orders });
      const byHand = Math.min(...orders.map((a) => (steps * a) / (2 * sigma * sigma) + Math.log(1 / delta) / (a - 1)));
      expect(classic.epsilon).toBeCloseTo(byHand, 12);
      const tight = computeEpsilon({ q: 1, noiseMultiplier: sigma, steps, delta, conversion: 'tight', orders });
      const tightByHand = Math.min(...orders.map((a) => (steps * a) / (2 * sigma * sigma) + Math.log((a - 1) / a) - (Math.log(delta) + Math.log(a)) / (a - 1)));
      expect(tight.epsilon).toBeCloseTo(Math.max(0, tightByHand), 12);
    }
  });

  it.each<EpsilonConversion>(['tight', 'classic'])('%s: ε grows with T and q and shrinks with σ', (conversion) => {
    const eps = (q: number, noiseMultiplier: number, steps: number) => computeEpsilon({ q, noiseMultiplier, steps, delta: 1e-5, conversion }).epsilon;
    const increasing = (xs: number[]) => xs.slice(1).every((x, i) => x > xs[i]!);
    for (const q of [0.001, 0.01, 0.1, 1]) {
      for (const sigma of [0.5, 1, 2, 4]) expect(increasing([1, 10, 100, 1000, 10_000].map((t) => eps(q, sigma, t)))).toBe(true);
    }
    for (const sigma of [0.5, 1, 2, 4]) {
      for (const steps of [1, 100, 10_000]) expect(increasing([0.001, 0.01, 0.05, 0.1, 0.5, 1].map((q) => eps(q, sigma, steps)))).toBe(true);
    }
    for (const q of [0.01, 0.1, 1]) {
      for (const steps of [1, 100, 10_000]) expect(increasing([8, 4, 2, 1, 0.7, 0.5].map((z) => eps(q, z, steps)))).toBe(true);
    }
  });
});

// Issue 19: ε must never be more than 0.1% above the smallest ε over Opacus' default orders.
describe('against Opacus’ default orders', () => {
  // Reference (ε, best order) over OPACUS_ALPHAS, computed once with python3 (numpy, mpmath; no
  // fedsim, Opacus or TF Privacy code) from the definition of the sampled Gaussian's RDP,
  // A_α = E_{z∼N(0,σ²)}[((1−q) + q·e^((2z−1)/(2σ²)))^α], RDP = log A_α / (α − 1), times T steps:
  // integer α by the exact binomial sum in mpmath at 60 digits; fractional α by the trapezoid rule
  // on log-space values (step σ/200 over [−40σ − 2, α + 40σ + 2]), which agreed with mpmath.quad at
  // 30 digits to ≤ 4e-9 relative at six (q, σ, α) checks; q = 1 by the closed form α/(2σ²); then
  // ε = min over the orders of both conversions as documented in rdp-accountant.ts. Rows: the
  // issue's example, Opacus' test_rdp_accountant (7.32911117143 there), Abadi et al. 2016, the
  // point where the old 74 orders were 15% loose (0.02, 0.3, 100), small-order, large-order and
  // no-subsampling optima.
  it.each<{ q: number; sigma: number; steps: number; delta: number; tight: [number, number]; classic: [number, number] }>([
    { q: 0.01, sigma: 1.1, steps: 100, delta: 1e-5, tight: [0.9560910987518574, 10.7], classic: [1.298387294346148, 10.8] },
    { q: 0.04, sigma: 1.5, steps: 2250, delta: 1e-5, tight: [7.32911117145474, 3.9], classic: [8.073848277095895, 4.1] },
    { q: 0.01, sigma: 4, steps: 10_000, delta: 1e-5, tight: [1.0354900660362967, 17], classic: [1.2585747412527875, 20] },
    { q: 0.02, sigma: 0.3, steps: 100, delta: 1e-5, tight: [44.776452962853526, 1.4], classic: [46.87039652290193, 1.4] },
    { q: 0.1, sigma: 0.7, steps: 1000, delta: 1e-6, tight: [62.62507828039574, 1.6], classic: [64.3892469154837, 1.6] },
    { q: 0.001, sigma: 2, steps: 100_000, delta: 1e-8, tight: [0.9088251944209342, 33], classic: [1.0429340293393299, 37] },
    { q: 0.5, sigma: 0.8, steps: 50, delta: 1e-5, tight: [39.9134795015348, 1.7], classic: [41.55882305519595, 1.7] },
    { q: 0.2, sigma: 1, steps: 10, delta: 1e-5, tight: [5.753688632763901, 3.6], classic: [6.571777896837784, 3.6] },
    { q: 0.05, sigma: 0.5, steps: 10_000, delta: 1e-8, tight: [361.9934923253802, 1.2], classic: [364.696859578578, 1.2] },
    { q: 0.004, sigma: 1.3, steps: 1000, delta: 1e-5, tight: [0.5851170253185176, 18], classic: [0.8122973072700054, 18] },
    { q: 1, sigma: 2, steps: 10, delta: 1e-5, tight: [8.079406222420491, 3.9], classic: [8.837641821656742, 4] },
    { q: 1, sigma: 0.8, steps: 1, delta: 1e-5, tight: [6.122757864599009, 4.6], classic: [6.779717227623744, 4.8] },
  ])('q=$q σ=$sigma T=$steps δ=$delta: the same ε and order as an independent computation', ({ q, sigma, steps, delta, tight, classic }) => {
    for (const [conversion, [epsilon, order]] of [
      ['tight', tight],
      ['classic', classic],
    ] as const) {
      const ours = computeEpsilon({ q, noiseMultiplier: sigma, steps, delta, conversion });
      expect(ours.order).toBe(order);
      expectRelativelyClose(ours.epsilon, epsilon, 1e-8);
    }
  });

  // Very large σ: ε is then almost all δ term, log(1/δ)/(α − 1), and the largest order wins; its
  // reference is the exact binomial sum at α = 512 in mpmath (q = 1: closed form), as above. Every
  // one is below Opacus' best, which stops at α = 63 (reference: 0.10287 tight, 0.18570 classic).
  it.each([
    { q: 0.01, sigma: 1e3, steps: 1000, tight: 0.008392680452886275, classic: 0.022555786961956766 },
    { q: 0.5, sigma: 1e5, steps: 100, tight: 0.008367720310840297, classic: 0.022530826819910785 },
    { q: 1, sigma: 1e4, steps: 10, tight: 0.008392680310832111, classic: 0.022555786819902602 },
  ])('very large σ (q=$q σ=$sigma): best at the largest order, as computed independently', ({ q, sigma, steps, tight, classic }) => {
    for (const [conversion, epsilon] of [
      ['tight', tight],
      ['classic', classic],
    ] as const) {
      const ours = computeEpsilon({ q, noiseMultiplier: sigma, steps, delta: 1e-5, conversion });
      expect(ours.order).toBe(DEFAULT_ORDERS[DEFAULT_ORDERS.length - 1]);
      expectRelativelyClose(ours.epsilon, epsilon, 1e-8);
      expect(ours.epsilon).toBeLessThan(conversion === 'tight' ? 0.10287 : 0.1857);
    }
  });

  it('the optimum can sit at either edge of the orders (what `privacy table` marks with †)', () => {
    expect(computeEpsilon({ q: 1, noiseMultiplier: 0.3, steps: 1000, delta: 1e-5 }).order).toBe(DEFAULT_ORDERS[0]);
    expect(computeEpsilon({ q: 0.01, noiseMultiplier: 50, steps: 1, delta: 1e-5 }).order).toBe(DEFAULT_ORDERS[DEFAULT_ORDERS.length - 1]);
  });

  // The requirement itself on a grid (it includes the q = 0.01, σ = 1.1, T = 100), against
  // Opacus' orders evaluated with the same arithmetic, checked independently in the table above.
  it('ε is never more than 0.1% above the smallest ε over Opacus’ orders', () => {
    let checked = 0;
    for (const q of [0.001, 0.01, 0.04, 0.1, 0.5, 1]) {
      for (const sigma of [0.5, 0.8, 1.1, 1.5, 2, 4, 10]) {
        const ours = rdpOfSampledGaussian(q, sigma);
        const opacus = rdpOfSampledGaussian(q, sigma, OPACUS_ALPHAS);
        for (const steps of [1, 10, 100, 1000, 10_000]) {
          for (const delta of [1e-5, 1e-8]) {
            for (const conversion of ['tight', 'classic'] as const) {
              const mine = epsilonFromRdp(
                DEFAULT_ORDERS,
                ours.map((r) => r * steps),
                delta,
                conversion,
              ).epsilon;
              const best = epsilonFromRdp(
                OPACUS_ALPHAS,
                opacus.map((r) => r * steps),
                delta,
                conversion,
              ).epsilon;
              expect(mine, `q=${q} σ=${sigma} T=${steps} δ=${delta} ${conversion}`).toBeLessThanOrEqual(best * 1.001);
              checked++;
            }
          }
        }
      }
    }
    expect(checked).toBe(6 * 7 * 5 * 2 * 2);
  });
});

describe('calibrateNoiseMultiplier', () => {
  it.each([
    { q: 0.01, steps: 10_000, delta: 1e-5, targetEpsilon: 1, conversion: 'tight' as const },
    { q: 0.01, steps: 10_000, delta: 1e-5, targetEpsilon: 1.26, conversion: 'classic' as const },
    { q: 0.1, steps: 100, delta: 1e-6, targetEpsilon: 3, conversion: 'tight' as const },
    { q: 1, steps: 1, delta: 1e-5, targetEpsilon: 0.5, conversion: 'classic' as const },
    { q: 0.001, steps: 1, delta: 1e-5, targetEpsilon: 20, conversion: 'tight' as const },
    { q: 0.1, steps: 1000, delta: 1e-5, targetEpsilon: 0.05, conversion: 'tight' as const }, // z ≈ 205: large σ, large order
  ])('inverts computeEpsilon: q=$q T=$steps ε≤$targetEpsilon ($conversion)', (p) => {
    const z = calibrateNoiseMultiplier(p);
    const at = (noiseMultiplier: number) => computeEpsilon({ ...p, noiseMultiplier }).epsilon;
    expect(at(z)).toBeLessThanOrEqual(p.targetEpsilon);
    expect(at(z * (1 - 1e-4))).toBeGreaterThan(p.targetEpsilon);
  });

  // The example from the other side: ε = 0.95609 (tight) and 1.29839 (classic) at σ = 1.1
  // in the Opacus-orders table above, so the budget read back must give σ = 1.1 again.
  it.each([
    { conversion: 'tight' as const, targetEpsilon: 0.9560910987518574 },
    { conversion: 'classic' as const, targetEpsilon: 1.298387294346148 },
  ])('recovers σ = 1.1 from ε at q = 0.01, T = 100 ($conversion)', ({ conversion, targetEpsilon }) => {
    const z = calibrateNoiseMultiplier({ q: 0.01, steps: 100, delta: 1e-5, targetEpsilon, conversion });
    expect(Math.abs(z - 1.1) / 1.1).toBeLessThan(2e-5);
  });

  it('recovers Abadi et al.’s σ = 4 from their ε ≈ 1.26', () => {
    const z = calibrateNoiseMultiplier({ q: 0.01, steps: 10_000, delta: 1e-5, targetEpsilon: 1.26, conversion: 'classic' });
    expect(Math.abs(z - 4)).toBeLessThan(0.01);
  });

  // pytorch/opacus, opacus/tests/accountants_test.py, test_get_noise_multiplier_rdp_steps: q = 0.04,
  // 2000 steps, δ = 1e-5, ε = 8 → 1.3562 (4 places). Opacus stops bisecting once ε(z) is within
  // 0.01 below the target, so its z is a little above the smallest one: ours must be ≤ 1.3562 and
  // close, and 1.3562 itself must land in Opacus' acceptance window (7.99, 8].
  it('agrees with Opacus get_noise_multiplier (1.3562)', () => {
    const p = { q: 0.04, steps: 2000, delta: 1e-5, orders: OPACUS_ALPHAS };
    const z = calibrateNoiseMultiplier({ ...p, targetEpsilon: 8 });
    expect(z).toBeLessThanOrEqual(1.3562);
    expect(z).toBeGreaterThan(1.3562 * 0.995);
    const atOpacusZ = computeEpsilon({ ...p, noiseMultiplier: 1.3562 }).epsilon;
    expect(atOpacusZ).toBeLessThanOrEqual(8);
    expect(atOpacusZ).toBeGreaterThan(7.99);
  });

  it('needs no noise when nothing is sampled', () => {
    expect(calibrateNoiseMultiplier({ q: 0, steps: 100, delta: 1e-5, targetEpsilon: 1 })).toBe(0);
  });

  it('refuses unreachable targets with a RangeError', () => {
    expect(() => calibrateNoiseMultiplier({ q: 0.1, steps: 100, delta: 1e-5, targetEpsilon: 0 })).toThrow(/targetEpsilon must be a finite number > 0, got 0/);
    expect(() => calibrateNoiseMultiplier({ q: 0.1, steps: 100, delta: 1e-5, targetEpsilon: 1e-4 })).toThrow(RangeError);
    expect(() => calibrateNoiseMultiplier({ q: 0.1, steps: 100, delta: 1e-5, targetEpsilon: 1e-4 })).toThrow(/unreachable/);
  });
});

describe('RdpAccountant', () => {
  it('repeated step(q, z) equals computeEpsilon with that many steps', () => {
    const accountant = new RdpAccountant();
    for (let i = 0; i < 500; i++) accountant.step(0.02, 1.1);
    expect(accountant.steps).toBe(500);
    for (const conversion of ['tight', 'classic'] as const) {
      const expected = computeEpsilon({ q: 0.02, noiseMultiplier: 1.1, steps: 500, delta: 1e-5, conversion });
      const actual = accountant.epsilon(1e-5, conversion);
      expect(actual.order).toBe(expected.order);
      expect(actual.epsilon).toBeCloseTo(expected.epsilon, 10);
    }
  });

  it('step(q, z, count) equals count single steps, and rounds with changing q and z add up', () => {
    const counted = new RdpAccountant();
    counted.step(0.05, 1.3, 40);
    counted.step(0.1, 0.9, 7);
    const single = new RdpAccountant();
    for (let i = 0; i < 40; i++) single.step(0.05, 1.3);
    for (let i = 0; i < 7; i++) single.step(0.1, 0.9);
    expect(counted.steps).toBe(47);
    expect(counted.epsilon(1e-5).epsilon).toBeCloseTo(single.epsilon(1e-5).epsilon, 10);
    const second = rdpOfSampledGaussian(0.1, 0.9);
    const byRdp = rdpOfSampledGaussian(0.05, 1.3).map((r, k) => 40 * r + 7 * second[k]!);
    expect(counted.epsilon(1e-5).epsilon).toBeCloseTo(epsilonFromRdp(DEFAULT_ORDERS, byRdp, 1e-5).epsilon, 10);
  });

  it('starts at ε = 0', () => {
    const accountant = new RdpAccountant();
    expect(accountant.steps).toBe(0);
    expect(accountant.epsilon(1e-5).epsilon).toBe(0);
  });

  it('epsilonAfter looks ahead without changing the accountant', () => {
    const accountant = new RdpAccountant();
    accountant.step(0.01, 1, 100);
    const before = accountant.epsilon(1e-5);
    const ahead = accountant.epsilonAfter({ q: 0.01, noiseMultiplier: 1, steps: 50 }, 1e-5);
    expect(accountant.epsilon(1e-5)).toEqual(before);
    expect(accountant.steps).toBe(100);
    expect(ahead.epsilon).toBeGreaterThan(before.epsilon);
    expect(ahead.epsilon).toBeCloseTo(computeEpsilon({ q: 0.01, noiseMultiplier: 1, steps: 150, delta: 1e-5 }).epsilon, 10);
    // One step by default.
    const oneMore = accountant.epsilonAfter({ q: 0.01, noiseMultiplier: 1 }, 1e-5, 'classic');
    accountant.step(0.01, 1);
    expect(accountant.epsilon(1e-5, 'classic').epsilon).toBeCloseTo(oneMore.epsilon, 12);
  });
});

describe('argument checks', () => {
  it.each([
    [() => rdpOfSampledGaussian(1.5, 1), /q must be a probability in \[0, 1\], got 1.5/],
    [() => rdpOfSampledGaussian(-0.1, 1), /q must be .*got -0.1/],
    [() => rdpOfSampledGaussian(0.1, -1), /noiseMultiplier must be a finite number ≥ 0, got -1/],
    [() => rdpOfSampledGaussian(0.1, NaN), /noiseMultiplier .*got NaN/],
    [() => rdpOfSampledGaussian(0.1, 1, [1, 2]), /order must be a finite number > 1, got 1/],
    [() => rdpOfSampledGaussian(0.1, 1, []), /orders must not be empty/],
    [() => computeEpsilon({ q: 0.1, noiseMultiplier: 1, steps: 2.5, delta: 1e-5 }), /steps must be a whole number ≥ 0, got 2.5/],
    [() => computeEpsilon({ q: 0.1, noiseMultiplier: 1, steps: 10, delta: 0 }), /delta must be in \(0, 1\), got 0/],
    [() => computeEpsilon({ q: 0.1, noiseMultiplier: 1, steps: 10, delta: 1 }), /delta must be in \(0, 1\), got 1/],
    [() => epsilonFromRdp([2, 3], [1], 1e-5), /one value per order/],
    [() => epsilonFromRdp([2, 3], [1, -1], 1e-5), /rdp\[1\] must be ≥ 0/],
    [() => epsilonFromRdp([2], [1], 1e-5, 'loose' as EpsilonConversion), /conversion must be 'tight' or 'classic', got "loose"/],
    [() => new RdpAccountant().step(0.1, 1, -1), /count must be a whole number ≥ 0, got -1/],
    [() => new RdpAccountant().epsilonAfter({ q: 0.1, noiseMultiplier: 1, steps: 0.5 }, 1e-5), /steps must be a whole number ≥ 0, got 0.5/],
  ])('%#: throws a RangeError naming the parameter and value', (call, message) => {
    expect(call).toThrow(RangeError);
    expect(call).toThrow(message);
  });
});
