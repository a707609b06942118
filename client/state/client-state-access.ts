/**
 * A worker's use of its run's client state (shared/client-state): attached on first use, read
 * once before a client trains, written before the client's update is sent. That is what a
 * device does with its own memory (SCAFFOLD's cᵢ ← cᵢ⁺, a top-k residual): once the coordinator
 * holds the update, the state it goes with is in place, so the client's next round, on whatever
 * worker, reads it; no round waits on a write still in flight. The price: an update lost after
 * the write (a worker killed mid-send, a refusal) leaves the client's state a round ahead of what
 * the server aggregated, as it would on a device whose message was lost.
 */
import type { Bus } from '../../shared/bus/bus.js';
import type { ClientStateKey, ClientStateStore } from '../../shared/client-state/client-state-store.js';

export type ClientStateValues = Partial<Record<ClientStateKey, Float32Array>>;

export class ClientStateAccess {
  private store: Promise<ClientStateStore> | null = null;

  constructor(
    private readonly bus: Bus,
    private readonly run: string,
  ) {}

  async read(clientId: number, keys: readonly ClientStateKey[]): Promise<ClientStateValues> {
    if (keys.length === 0) return {};
    const store = await this.attached();
    const values: ClientStateValues = {};
    for (const key of keys) {
      const value = await store.get(clientId, key);
      if (value) values[key] = value;
    }
    return values;
  }

  async write(clientId: number, values: ClientStateValues): Promise<void> {
    const entries = Object.entries(values) as [ClientStateKey, Float32Array][];
    if (entries.length === 0) return;
    const store = await this.attached();
    for (const [key, value] of entries) await store.put(clientId, key, value);
  }

  private attached(): Promise<ClientStateStore> {
    this.store ??= this.bus.clientState(this.run);
    // A failed attach (coordinator not there yet) is tried again on the next use.
    this.store.catch(() => (this.store = null));
    return this.store;
  }
}
