/** The client state of an in-process run: every worker shares this process, so a Map is honest placement. */
import { ClientStateFull, stateName, type ClientStateKey, type ClientStateUsage, type OwnedClientStateStore } from './client-state-store.js';

export class InProcessClientState implements OwnedClientStateStore {
  readonly placement = 'in-process' as const;
  private readonly values = new Map<string, Float32Array>();
  private bytes = 0;

  constructor(
    readonly limitBytes: number,
    private readonly onDestroy: () => void = () => {},
  ) {}

  get(clientId: number, key: ClientStateKey): Promise<Float32Array | null> {
    const value = this.values.get(stateName(clientId, key));
    return Promise.resolve(value ? value.slice() : null);
  }

  put(clientId: number, key: ClientStateKey, value: Float32Array): Promise<void> {
    const name = stateName(clientId, key);
    const after = this.bytes - (this.values.get(name)?.byteLength ?? 0) + value.byteLength;
    if (after > this.limitBytes) return Promise.reject(new ClientStateFull(after, this.limitBytes));
    // A copy: the caller goes on using its vector (the next round's residual, say).
    this.values.set(name, value.slice());
    this.bytes = after;
    return Promise.resolve();
  }

  usage(): Promise<ClientStateUsage> {
    return Promise.resolve({ placement: this.placement, entries: this.values.size, bytes: this.bytes, limitBytes: this.limitBytes });
  }

  destroy(): Promise<void> {
    this.values.clear();
    this.bytes = 0;
    this.onDestroy();
    return Promise.resolve();
  }
}
