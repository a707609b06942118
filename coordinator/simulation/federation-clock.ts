/**
 * The simulated federation around the real training: which clients are online, how long each
 * would take on its device (download + training FLOPs / speed + upload), what the straggler
 * policy keeps, and what the round costs in FLOPs, joules and grams of CO2e. The coordinator asks
 * it before dispatching (so dropped stragglers are never trained for real) and after the round.
 * Without `system.devices` it still counts FLOPs, from the clients' real local steps.
 */
import type { StragglerSpec } from '../../shared/compute/straggler-spec.js';
import { assignProfiles, isAvailable, type DeviceProfile, type DevicesSpec } from '../../shared/devices/device-profiles.js';
import { clientsToSelect, applyStragglerPolicy, type RoundOutcome as StragglerOutcome } from './straggler-policy.js';
import { clientEnergy, clientRoundTime, emissionsGrams } from './simulated-clock.js';

export interface ClockSettings {
  devices?: DevicesSpec;
  stragglers: StragglerSpec;
  seed: number;
  /** Training samples per client id. */
  clientSizes: readonly number[];
  epochs: number;
  batchSize: number | 'all';
  /** Forward + backward FLOPs of one training sample; null when the model has a layer FLOP counting does not know (FLOP figures are then null). */
  flopsPerSample: number | null;
  /** Bytes one client uploads (the update codec's encoded size). */
  updateBytes: number;
}

export interface DispatchPlan {
  /** Clients to train for real, with a step limit under partial work. */
  dispatch: { clientId: number; maxSteps?: number }[];
  /** Selected, but the policy drops them on simulated time: not trained, their would-be work counted as wasted. */
  stragglers: number[];
}

/** Per-round compute figures (null fields: no device population to simulate). */
export interface RoundCompute {
  /** Clients online this round (devices only). */
  available: number | null;
  /** Selected clients the straggler policy dropped on simulated time (never trained). */
  stragglers: number;
  /** Simulated seconds of this round / of the run so far. */
  simulatedSeconds: number | null;
  simulatedSecondsTotal: number | null;
  /** Training FLOPs (forward + backward), stragglers' wasted work included; and the run's total. Null: the model's FLOPs are unknown. */
  flops: number | null;
  flopsTotal: number | null;
  flopsPerClient: number | null;
  wastedFlops: number | null;
  energyJoules: number | null;
  energyJoulesTotal: number | null;
  wastedJoules: number | null;
  emissionsGrams: number | null;
  emissionsGramsTotal: number | null;
}

export class FederationClock {
  private readonly profiles: DeviceProfile[] | null;
  private plan: { outcome: StragglerOutcome; planned: Map<number, number> } | null = null;
  private totals = { seconds: 0, flops: 0, joules: 0, grams: 0 };

  constructor(private readonly settings: ClockSettings) {
    this.profiles = settings.devices ? assignProfiles(settings.clientSizes.length, settings.devices.population, settings.seed) : null;
    // Simulated training time is FLOPs over device speed: without a FLOP count there is none to simulate.
    if (settings.devices && settings.flopsPerSample === null)
      throw new Error("system.devices: simulated device time needs the model's training FLOPs, which are unknown (see the FLOPs warning)");
  }

  get simulatesDevices(): boolean {
    return this.profiles !== null;
  }

  profileOf(clientId: number): DeviceProfile | null {
    return this.profiles?.[clientId] ?? null;
  }

  /** Offline clients are never selected. */
  isAvailable(clientId: number, round: number): boolean {
    const profile = this.profileOf(clientId);
    return profile === null || isAvailable(profile, clientId, round, this.settings.seed);
  }

  availableCount(round: number): number | null {
    if (!this.profiles) return null;
    return this.profiles.filter((_, id) => this.isAvailable(id, round)).length;
  }

  /** How many to select for K wanted: ⌈r·K⌉ under over-select. */
  selectionSize(target: number, available: number): number {
    return clientsToSelect(target, this.settings.stragglers, available);
  }

  plannedSteps(clientId: number): number {
    const samples = this.settings.clientSizes[clientId] ?? 0;
    const batch = this.settings.batchSize === 'all' ? samples : Math.min(this.settings.batchSize, samples);
    return this.settings.epochs * Math.ceil(samples / Math.max(batch, 1));
  }

  /** Applies the straggler policy to the selected clients, in simulated time. */
  planRound(selected: readonly number[], target: number, modelBytes: number): DispatchPlan {
    const planned = new Map(selected.map((id) => [id, this.plannedSteps(id)]));
    if (!this.profiles) {
      this.plan = null;
      return { dispatch: selected.map((clientId) => ({ clientId })), stragglers: [] };
    }
    const candidates = selected.map((clientId) => {
      const profile = this.profiles![clientId]!;
      const trainingFlops = this.clientFlops(clientId);
      const time = clientRoundTime(profile, { downloadBytes: modelBytes, uploadBytes: this.settings.updateBytes, trainingFlops });
      return { clientId, time, trainingFlops, energy: clientEnergy(profile, time), localSteps: planned.get(clientId) };
    });
    const outcome = applyStragglerPolicy(candidates, this.settings.stragglers, target);
    this.plan = { outcome, planned };
    const partial = this.settings.stragglers.policy === 'partial-work';
    return {
      dispatch: outcome.clients
        .filter((c) => c.kept)
        .map((c) =>
          partial && c.stepsFraction < 1
            ? { clientId: c.clientId, maxSteps: Math.max(1, Math.round(c.stepsFraction * planned.get(c.clientId)!)) }
            : { clientId: c.clientId },
        ),
      stragglers: outcome.droppedIds,
    };
  }

  /**
   * The round's figures. `reported`: clients whose update arrived, with their real local steps;
   * FLOPs follow those steps (partial work does fewer).
   */
  finishRound(round: number, reported: readonly { clientId: number; steps: number }[]): RoundCompute {
    const flopsOf = (c: { clientId: number; steps: number }) =>
      this.clientFlops(c.clientId) * Math.min(1, c.steps / Math.max(this.plannedSteps(c.clientId), 1));
    const usefulFlops = reported.reduce((sum, c) => sum + flopsOf(c), 0);
    const outcome = this.plan?.outcome ?? null;
    const wastedFlops = outcome?.wastedFlops ?? 0;
    const flops = usefulFlops + wastedFlops;
    this.totals.flops += flops;
    const counted = this.settings.flopsPerSample !== null;
    const base = {
      available: this.availableCount(round),
      stragglers: outcome?.droppedIds.length ?? 0,
      flops: counted ? flops : null,
      flopsTotal: counted ? this.totals.flops : null,
      flopsPerClient: counted && reported.length > 0 ? usefulFlops / reported.length : null,
      wastedFlops: counted ? wastedFlops : null,
    };
    if (!outcome || !this.settings.devices) {
      return {
        ...base,
        simulatedSeconds: null,
        simulatedSecondsTotal: null,
        energyJoules: null,
        energyJoulesTotal: null,
        wastedJoules: null,
        emissionsGrams: null,
        emissionsGramsTotal: null,
      };
    }
    const joules = outcome.clients.reduce((sum, c) => sum + c.joules, 0);
    const grams = emissionsGrams(joules, this.settings.devices.carbonIntensity);
    this.totals.seconds += outcome.roundSeconds;
    this.totals.joules += joules;
    this.totals.grams += grams;
    return {
      ...base,
      simulatedSeconds: outcome.roundSeconds,
      simulatedSecondsTotal: this.totals.seconds,
      energyJoules: joules,
      energyJoulesTotal: this.totals.joules,
      wastedJoules: outcome.wastedJoules,
      emissionsGrams: grams,
      emissionsGramsTotal: this.totals.grams,
    };
  }

  private clientFlops(clientId: number): number {
    return (this.settings.flopsPerSample ?? 0) * (this.settings.clientSizes[clientId] ?? 0) * this.settings.epochs;
  }
}
