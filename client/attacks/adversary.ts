/**
 * The attacker inside a worker. It finds who it controls in the scenario (the seeded draw of
 * shared/adversaries/malicious-clients.ts; nothing on the bus marks a client as malicious), and
 * for each task of one of them crafts the update its attack prescribes. Under collusion it
 * computes the benign updates of every colluding client itself, once per round and worker,
 * from their own data: the threat model is one adversary that controls those devices.
 */
import type { Logger } from 'pino';
import { maliciousClients } from '../../shared/adversaries/malicious-clients.js';
import { subset, type DataSplit } from '../../shared/data/dataset.js';
import type { FederatedData } from '../../shared/data/federated-data.js';
import { Rng } from '../../shared/random.js';
import { clientsPerRound } from '../../shared/scenario/load-scenario.js';
import type { Scenario } from '../../shared/scenario/schema.js';
import type { Attack, AttackContext, TrainedUpdate } from './attack.js';
import { ATTACKS, type AdversariesSpec } from './registry.js';

/** Trains from the round's global model on `data` with `seed`, as an honest client would. */
export type TrainFromGlobal = (data: DataSplit, seed: number) => Promise<TrainedUpdate>;

export interface AttackedTask {
  round: number;
  clientId: number;
  seed: number;
}

export class Adversary {
  readonly clients: ReadonlySet<number>;
  private readonly attack: Attack;
  /** This round's benign updates of the colluders (client id order), computed on first need. */
  private colluding: { round: number; updates: Promise<Map<number, TrainedUpdate>> } | null = null;

  constructor(
    private readonly spec: AdversariesSpec,
    private readonly scenario: Scenario,
    private readonly data: FederatedData,
  ) {
    this.clients = new Set(maliciousClients(spec, scenario.partition.clients, scenario.seed));
    this.attack = ATTACKS.get(spec.attack.name).create(spec.attack);
  }

  controls(clientId: number): boolean {
    return this.clients.has(clientId);
  }

  /** The update the malicious client `task.clientId` sends this round. */
  craft(task: AttackedTask, data: DataSplit, train: TrainFromGlobal): Promise<TrainedUpdate> {
    return this.attack.craft(this.context(task, data, train));
  }

  private context(task: AttackedTask, data: DataSplit, train: TrainFromGlobal): AttackContext {
    const { dataset } = this.data;
    const colluding = this.spec.colluding;
    let honest: Promise<TrainedUpdate> | null = null;
    return {
      round: task.round,
      clientId: task.clientId,
      data,
      featureShape: dataset.featureShape,
      numClasses: dataset.numClasses,
      colluding,
      cohort: this.cohort(),
      // Colluders draw from the round's stream, so they all send the same noise.
      rng: colluding ? new Rng(this.scenario.seed).fork(`adversary:${task.round}`) : new Rng(task.seed).fork('attack'),
      train: (poisoned) => train(poisoned, task.seed),
      honest: () => (honest ??= colluding ? this.colluderUpdates(task.round, train).then((updates) => updates.get(task.clientId)!) : train(data, task.seed)),
      colluders: async () => (colluding ? [...(await this.colluderUpdates(task.round, train)).values()].map((u) => u.delta) : []),
    };
  }

  /** n and the expected m: the population's malicious share of the clients per round, at least one. */
  private cohort(): { clients: number; attackers: number } {
    const clients = clientsPerRound(this.scenario);
    return { clients, attackers: Math.max(1, Math.round((this.clients.size / this.scenario.partition.clients) * clients)) };
  }

  private colluderUpdates(round: number, train: TrainFromGlobal): Promise<Map<number, TrainedUpdate>> {
    if (this.colluding?.round !== round) this.colluding = { round, updates: this.trainColluders(round, train) };
    return this.colluding.updates;
  }

  /** Each colluder's seed comes from the scenario, so every worker computes the same statistics. */
  private async trainColluders(round: number, train: TrainFromGlobal): Promise<Map<number, TrainedUpdate>> {
    const { dataset, clients } = this.data;
    const updates = new Map<number, TrainedUpdate>();
    for (const clientId of [...this.clients].sort((a, b) => a - b)) {
      const seed = new Rng(this.scenario.seed).fork(`colluder:${round}:${clientId}`).nextUint32();
      updates.set(clientId, await train(subset(dataset.train, dataset.featureSize, clients[clientId]!), seed));
    }
    return updates;
  }
}

/** The scenario's adversary as this worker sees it, or null when the run has none. */
export function adversaryOf(scenario: Scenario, data: FederatedData, log: Logger): Adversary | null {
  if (!scenario.adversaries) return null;
  const adversary = new Adversary(scenario.adversaries, scenario, data);
  log.info(
    { attack: scenario.adversaries.attack.name, colluding: scenario.adversaries.colluding, clients: [...adversary.clients] },
    'adversary: malicious clients',
  );
  return adversary;
}
