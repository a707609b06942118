/**
 * An in-memory simulation of one secure-aggregation round: every party runs in this process and
 * messages go straight from one state machine to another, each serialised with the wire codec and
 * decoded again on the way (so sizes are real and the codec is exercised). For tests and the
 * benchmark; it is not a transport — the NATS transport drives the same SecAggClient and
 * SecAggServer across processes.
 *
 * Dropouts are scripted per step. A client whose step throws (e.g. a refusal) is reported and
 * treated as dropped from then on.
 */
import { Rng } from '../random.js';
import { SecAggClient } from './client.js';
import { SecAggError } from './errors.js';
import { decodeSecAggMessage, encodeSecAggMessage, type SecAggMessage, type SecAggMessageOf, type SecAggMessageType } from './messages.js';
import { planRound, type RoundConfig, type Variant } from './parameters.js';
import { SecAggServer, type AggregationOutcome } from './server.js';

export interface DropoutPlan {
  /** Never answer at all. */
  beforeAdvertiseKeys?: readonly number[];
  /** Advertise keys, then vanish: no shares. */
  afterAdvertiseKeys?: readonly number[];
  /** Send shares, then vanish: no masked input (the server must remove their pairwise masks). */
  afterShareKeys?: readonly number[];
  /** Send the masked input, then vanish: counted in the sum, but no unmasking shares. */
  afterMaskedInput?: readonly number[];
}

export interface SimulationOptions {
  /** Encoded inputs (see fixed-point.ts), one per client; client i gets inputs[i]. */
  inputs: readonly Uint32Array[];
  variant: Variant;
  /** τ: fraction of each secret's holders needed to reconstruct it (default 0.5). */
  thresholdFraction?: number;
  /** Absolute threshold t, overriding τ. */
  threshold?: number;
  /** SecAgg+ degree k, overriding the bound-driven choice. */
  degree?: number;
  /** Design dropout rate δ for choosing k (default 0.1). */
  dropoutRate?: number;
  /** A ready config (overrides the planning options above). */
  config?: RoundConfig;
  dropouts?: DropoutPlan;
  session?: string;
  round?: number;
  graphSeed?: number;
  /** Sees every message the server receives, decoded, with its size on the wire. */
  onServerReceive?: (message: SecAggMessage, bytes: number) => void;
}

export interface ClientReport {
  index: number;
  /** Time inside this client's state-machine calls (codec excluded). */
  computeMs: number;
  stepMs: { advertiseKeys: number; shareKeys: number; maskedInput: number; unmask: number };
  bytesSent: number;
  messagesSent: number;
  bytesReceived: number;
  /** Why this client stopped, if one of its own steps threw. */
  error?: string;
}

export interface SimulationResult {
  config: RoundConfig;
  outcome: AggregationOutcome;
  clients: ClientReport[];
  /** Time inside the server's state-machine calls. */
  serverMs: number;
  serverBytesReceived: number;
  /** Messages the server refused (should stay empty with honest clients). */
  serverRefused: string[];
}

export function runSecureAggregation(options: SimulationOptions): SimulationResult {
  const n = options.inputs.length;
  const config =
    options.config ??
    planRound({
      variant: options.variant,
      clients: n,
      vectorLength: options.inputs[0]?.length ?? 0,
      session: options.session ?? 'simulation',
      round: options.round ?? 0,
      graphSeed: options.graphSeed ?? 1,
      ...(options.thresholdFraction !== undefined && { thresholdFraction: options.thresholdFraction }),
      ...(options.threshold !== undefined && { threshold: options.threshold }),
      ...(options.degree !== undefined && { degree: options.degree }),
      ...(options.dropoutRate !== undefined && { dropoutRate: options.dropoutRate }),
    });
  if (config.clients !== n) throw new SecAggError('invalid-argument', `config is for ${config.clients} clients, got ${n} inputs`);

  const server = new SecAggServer(config);
  const clients = options.inputs.map((_, i) => new SecAggClient(config, i));
  const reports: ClientReport[] = clients.map((_, index) => ({
    index,
    computeMs: 0,
    stepMs: { advertiseKeys: 0, shareKeys: 0, maskedInput: 0, unmask: 0 },
    bytesSent: 0,
    messagesSent: 0,
    bytesReceived: 0,
  }));
  const serverRefused: string[] = [];
  let serverMs = 0;
  let serverBytesReceived = 0;
  const active = new Set(clients.map((_, i) => i));
  const drop = (list?: readonly number[]) => list?.forEach((i) => active.delete(i));

  const timedServer = <T>(fn: () => T): T => {
    const start = performance.now();
    try {
      return fn();
    } finally {
      serverMs += performance.now() - start;
    }
  };
  const toServer = (message: SecAggMessage, from: number, receive: (m: never) => void) => {
    const bytes = encodeSecAggMessage(message);
    reports[from]!.bytesSent += bytes.length;
    reports[from]!.messagesSent++;
    serverBytesReceived += bytes.length;
    const decoded = decodeSecAggMessage(bytes, message.type);
    options.onServerReceive?.(decoded, bytes.length);
    try {
      timedServer(() => receive(decoded as never));
    } catch (error) {
      if (!(error instanceof SecAggError)) throw error;
      serverRefused.push(error.message);
    }
  };
  const toClient = <T extends SecAggMessageType>(message: SecAggMessageOf<T> & { to: number }): SecAggMessageOf<T> => {
    const bytes = encodeSecAggMessage(message);
    reports[message.to]!.bytesReceived += bytes.length;
    return decodeSecAggMessage(bytes, message.type as T);
  };
  const clientStep = <R>(i: number, step: keyof ClientReport['stepMs'], fn: () => R): R | undefined => {
    const start = performance.now();
    try {
      return fn();
    } catch (error) {
      if (!(error instanceof SecAggError)) throw error;
      reports[i]!.error = error.message;
      active.delete(i);
      return undefined;
    } finally {
      const ms = performance.now() - start;
      reports[i]!.stepMs[step] += ms;
      reports[i]!.computeMs += ms;
    }
  };
  const finishAborted = (outcome: AggregationOutcome): SimulationResult => {
    clients.forEach((c) => c.abort());
    return { config, outcome, clients: reports, serverMs, serverBytesReceived, serverRefused };
  };
  const dropouts = options.dropouts ?? {};

  drop(dropouts.beforeAdvertiseKeys);
  for (const i of [...active]) {
    const m = clientStep(i, 'advertiseKeys', () => clients[i]!.advertiseKeys());
    if (m) toServer(m, i, (x) => server.receiveAdvertiseKeys(x));
  }
  drop(dropouts.afterAdvertiseKeys);
  const rosters = timedServer(() => server.closeAdvertiseKeys());
  if (!rosters.ok) return finishAborted(rosters);

  for (const roster of rosters.messages) {
    const i = roster.to;
    if (!active.has(i)) continue;
    const delivered = toClient<'key-roster'>(roster);
    const m = clientStep(i, 'shareKeys', () => clients[i]!.shareKeys(delivered));
    if (m) toServer(m, i, (x) => server.receiveEncryptedShares(x));
  }
  drop(dropouts.afterShareKeys);
  const deliveries = timedServer(() => server.closeShareKeys());
  if (!deliveries.ok) return finishAborted(deliveries);

  for (const delivery of deliveries.messages) {
    const i = delivery.to;
    if (!active.has(i)) continue;
    const delivered = toClient<'share-delivery'>(delivery);
    const m = clientStep(i, 'maskedInput', () => clients[i]!.maskedInput(delivered, options.inputs[i]!));
    if (m) toServer(m, i, (x) => server.receiveMaskedInput(x));
  }
  drop(dropouts.afterMaskedInput);
  const requests = timedServer(() => server.closeMaskedInputs());
  if (!requests.ok) return finishAborted(requests);

  for (const request of requests.messages) {
    const i = request.to;
    if (!active.has(i)) continue;
    const delivered = toClient<'unmask-request'>(request);
    const m = clientStep(i, 'unmask', () => clients[i]!.unmask(delivered));
    if (m) toServer(m, i, (x) => server.receiveUnmaskingShares(x));
  }
  const outcome = timedServer(() => server.finish());
  if (!outcome.ok) return finishAborted(outcome);
  for (const c of clients) if (c.phase !== 'done') c.abort();
  return { config, outcome, clients: reports, serverMs, serverBytesReceived, serverRefused };
}

/**
 * At each of the three in-round steps, `rate` of the clients still active vanish (chosen by a
 * seeded Rng), so 30 % per step leaves 0.7³ ≈ 34 % to unmask.
 */
export function randomDropouts(clients: number, rate: number, seed: number): DropoutPlan {
  if (!(rate >= 0 && rate < 1)) throw new SecAggError('invalid-argument', `dropout rate must be in [0, 1), got ${rate}`);
  const rng = new Rng(seed).fork('secagg dropouts');
  let active = Array.from({ length: clients }, (_, i) => i);
  const step = () => {
    const dropped = rng.shuffle([...active]).slice(0, Math.round(rate * active.length));
    const gone = new Set(dropped);
    active = active.filter((i) => !gone.has(i));
    return dropped.sort((a, b) => a - b);
  };
  return { afterAdvertiseKeys: step(), afterShareKeys: step(), afterMaskedInput: step() };
}
