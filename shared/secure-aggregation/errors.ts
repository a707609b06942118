/**
 * The one error type of the secure-aggregation core. The `code` lets a transport decide what to
 * do without parsing text: a `malformed-message` or `decrypt-failed` frame is refused and counted,
 * a `refused` client request is a protocol violation by the server, a `wrong-phase` call is a bug
 * in the caller.
 */
export type SecAggErrorCode =
  /** A message that does not decode or violates its schema (truncated, tampered, wrong sizes). */
  | 'malformed-message'
  /** A message of another session or round. */
  | 'wrong-round'
  /** A message addressed to someone else, or from a party that may not send it now. */
  | 'unexpected-sender'
  /** A second message of the same kind from the same party. */
  | 'duplicate'
  /** A state-machine method called out of order. */
  | 'wrong-phase'
  /** An authenticated share ciphertext that fails authentication. */
  | 'decrypt-failed'
  /** Too few live parties for the Shamir threshold. */
  | 'below-threshold'
  /** A client declining a server request that would expose an individual input. */
  | 'refused'
  /** Inconsistent protocol state (e.g. shares that reconstruct a key other than the advertised one). */
  | 'protocol-violation'
  /** Bad parameters given by the caller. */
  | 'invalid-argument';

export class SecAggError extends Error {
  override name = 'SecAggError';
  constructor(
    readonly code: SecAggErrorCode,
    message: string,
  ) {
    super(message);
  }
}
