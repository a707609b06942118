/**
 * State that follows a client rather than the worker that happens to train it: SCAFFOLD's
 * control variate, a top-k residual, FedPer's personal layers. Any worker may train any client,
 * so a value kept in a worker's memory would be on the wrong machine whenever another worker
 * draws the client next. The run's coordinator opens the store empty and removes it when the run
 * ends; workers attach to it. Placement follows the transport: in the process for in-process
 * runs (in-process-client-state.ts), a JetStream object-store bucket per run over NATS
 * (shared/bus/object-store-client-state.ts), which outlives any worker and works the same in
 * Kubernetes.
 */

/** What a client keeps between the rounds it trains in. */
export type ClientStateKey = 'control' | 'residual' | 'personal';

export interface ClientStateUsage {
  placement: ClientStateStore['placement'];
  /** Values held (a client with a control variate and a residual counts twice). */
  entries: number;
  bytes: number;
  limitBytes: number;
}

export interface ClientStateStore {
  readonly placement: 'in-process' | 'nats-object-store';
  /** The client's value, or null before its first write. */
  get(clientId: number, key: ClientStateKey): Promise<Float32Array | null>;
  /** Replaces the client's value; throws ClientStateFull past the store's limit. */
  put(clientId: number, key: ClientStateKey, value: Float32Array): Promise<void>;
  usage(): Promise<ClientStateUsage>;
}

/** The coordinator's handle: it alone removes the store. */
export interface OwnedClientStateStore extends ClientStateStore {
  /** Removes every value and the store itself (run end). */
  destroy(): Promise<void>;
}

export class ClientStateFull extends Error {
  constructor(needed: number, limitBytes: number) {
    super(`client state store full: ${needed} bytes needed, the limit is ${limitBytes} (system.clientStateMB)`);
    this.name = 'ClientStateFull';
  }
}

/** Object names in either placement: `<client>.<key>`. */
export function stateName(clientId: number, key: ClientStateKey): string {
  if (!(Number.isInteger(clientId) && clientId >= 0)) throw new RangeError(`client state: client id must be an integer ≥ 0 (got ${clientId})`);
  return `${clientId}.${key}`;
}

/** A value's bytes, little-endian float32 (the wire order of every other vector). */
export function stateBytes(value: Float32Array): Uint8Array {
  return new Uint8Array(value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength));
}

export function stateFromBytes(bytes: Uint8Array, name: string): Float32Array {
  if (bytes.byteLength % 4 !== 0) throw new Error(`client state ${name}: ${bytes.byteLength} bytes is not a float32 vector`);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}
