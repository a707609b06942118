/**
 * Client state over NATS: one JetStream object-store bucket per run (objects are chunked, so a
 * CNN-sized vector needs no raised max_payload). File storage, so a restarted nats-server keeps
 * it; `max_bytes` is the run's limit, enforced by the server as well as checked here.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { Objm, type ObjectStore } from '@nats-io/obj';
import { StorageType } from '@nats-io/jetstream';
import {
  ClientStateFull,
  stateBytes,
  stateFromBytes,
  stateName,
  type ClientStateKey,
  type ClientStateUsage,
  type OwnedClientStateStore,
} from '../client-state/client-state-store.js';
import { clientStateBucket } from './nats-permissions.js';

export class ObjectStoreClientState implements OwnedClientStateStore {
  readonly placement = 'nats-object-store' as const;

  private constructor(
    private readonly store: ObjectStore,
    private readonly bucket: string,
    readonly limitBytes: number,
  ) {}

  /** Coordinator: the run's bucket, created empty (what an earlier run of that name left is removed). */
  static async open(connection: NatsConnection, address: string, run: string, limitBytes: number): Promise<ObjectStoreClientState> {
    const bucket = clientStateBucket(run);
    const objects = new Objm(connection);
    try {
      await (await objects.open(bucket)).destroy();
    } catch {
      // No such bucket: nothing left over.
    }
    try {
      const store = await objects.create(bucket, { storage: StorageType.File, max_bytes: limitBytes, description: `fedsim client state of run ${run}` });
      return new ObjectStoreClientState(store, bucket, limitBytes);
    } catch (error) {
      throw new Error(`cannot create the client-state bucket ${bucket} on ${address} (${(error as Error).message}): is JetStream enabled?`);
    }
  }

  /** Worker: the bucket its coordinator opened. */
  static async attach(connection: NatsConnection, address: string, run: string): Promise<ObjectStoreClientState> {
    const bucket = clientStateBucket(run);
    try {
      const store = await new Objm(connection).open(bucket);
      const status = await store.status();
      return new ObjectStoreClientState(store, bucket, status.streamInfo.config.max_bytes);
    } catch (error) {
      throw new Error(
        `cannot open the client-state bucket ${bucket} on ${address} (${(error as Error).message}): has the coordinator of run "${run}" started?`,
      );
    }
  }

  async get(clientId: number, key: ClientStateKey): Promise<Float32Array | null> {
    const name = stateName(clientId, key);
    const bytes = await this.store.getBlob(name);
    return bytes ? stateFromBytes(bytes, `${this.bucket}/${name}`) : null;
  }

  async put(clientId: number, key: ClientStateKey, value: Float32Array): Promise<void> {
    const name = stateName(clientId, key);
    try {
      await this.store.putBlob({ name }, stateBytes(value));
    } catch (error) {
      // The server's own limit (max_bytes) answers "maximum bytes exceeded".
      if (/maximum bytes|insufficient resources/i.test((error as Error).message))
        throw new ClientStateFull((await this.usage()).bytes + value.byteLength, this.limitBytes);
      throw error;
    }
  }

  async usage(): Promise<ClientStateUsage> {
    const status = await this.store.status();
    // Every object keeps one metadata message beside its chunks.
    const entries = status.streamInfo.state.num_subjects === undefined ? 0 : Math.max(0, Math.ceil(status.streamInfo.state.num_subjects / 2));
    return { placement: this.placement, entries, bytes: status.size, limitBytes: this.limitBytes };
  }

  async destroy(): Promise<void> {
    await this.store.destroy();
  }
}
