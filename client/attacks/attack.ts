/**
 * What an attack is: given the attacker's own data, a way to train on it as an honest client
 * would, and (when attackers collude) the benign updates of every colluding client, it crafts
 * the update the malicious client sends. Attacks run inside ordinary workers and send through
 * the normal protocol; the coordinator gets no sign of them.
 */
import type { DataSplit } from '../../shared/data/dataset.js';
import type { Rng } from '../../shared/random.js';
import type { ClientStateValues } from '../state/client-state-access.js';
import type { LocalTrainingResult } from '../training/local-training.js';

export interface TrainedUpdate {
  /** w_local − w_global, as sent. */
  delta: Float32Array;
  /** What the client reports of its training (samples, steps, loss, time). */
  result: LocalTrainingResult;
  /** What the client keeps for its next round (SCAFFOLD's cᵢ⁺, personal layers), written once the update is accepted. */
  clientState?: ClientStateValues;
}

export interface AttackContext {
  round: number;
  clientId: number;
  /** The attacker's own local data. */
  data: DataSplit;
  featureShape: readonly number[];
  numClasses: number;
  /** Local training from the round's global model on `data`, as an honest client does it. */
  train(data: DataSplit): Promise<TrainedUpdate>;
  /** The attacker's own benign update (under collusion, the one among the colluders'). */
  honest(): Promise<TrainedUpdate>;
  /**
   * Under collusion: the benign updates of every colluding client this round, which the attacker
   * computes itself on their data (it controls their devices). Empty without collusion.
   */
  colluders(): Promise<Float32Array[]>;
  /** The attacker's draws; under collusion the round's draws, the same for every colluder. */
  rng: Rng;
  /** n, the clients per round, and m, the attackers expected among them (for ALIE's z). */
  cohort: { clients: number; attackers: number };
  colluding: boolean;
}

export interface Attack {
  craft(context: AttackContext): Promise<TrainedUpdate>;
}
