/**
 * Simulated client hardware: how fast a client trains, how fast its network is, what power it
 * draws and when it can take part. A scenario's `system.devices` section mixes profiles by share;
 * every client gets one profile for the whole run.
 *
 * Units: flops in FLOP/s (sustained during training, in training-flops.ts' counting, not peak);
 * downlinkBps / uplinkBps in bits per second (the unit of speed tests, "Mbps" × 1e6);
 * latencyMs one round trip in milliseconds; powers in watts.
 */
import { z } from 'zod';
import { apportion } from '../partition/apportion.js';
import { Rng } from '../random.js';

export type Availability = { kind: 'probability'; p: number } | { kind: 'periodic'; onRounds: number; offRounds: number; phase?: 'random' };

export interface DeviceProfile {
  name: string;
  flops: number;
  downlinkBps: number;
  uplinkBps: number;
  latencyMs: number;
  trainPowerW: number;
  radioPowerW: number;
  availability: Availability;
}

/**
 * The built-in tiers. Every figure is an order-of-magnitude estimate for a class of device, not
 * a measurement of one: sustained training throughput in particular depends on framework,
 * model and thermal state. Where a figure is derived, the derivation is given so that it can be
 * redone with other assumptions.
 */
export const BUILTIN_PROFILES = {
  'phone-low': {
    name: 'phone-low',
    // Entry-level Android, 8× Cortex-A53 at ~1.8 GHz (Snapdragon 450 / Helio P22 class). Peak FP32
    // ≈ 8 cores × 1.8 GHz × 4 FLOP/cycle (one 64-bit NEON FMA pipe) ≈ 58 GFLOP/s. Assumed ~5% of
    // peak sustained in on-device training (small batches, framework overhead, throttling).
    flops: 3e9,
    // Assumption: weak 4G, near the mobile medians of the slowest markets in the Ookla Speedtest
    // Global Index (~10 Mbps down), not a global median.
    downlinkBps: 10e6,
    uplinkBps: 2e6,
    latencyMs: 60,
    // Little-core clusters draw a few hundred mW per core at full clock (AnandTech SoC power
    // measurements); ≈2 W for the busy SoC plus memory. Approximation.
    trainPowerW: 2,
    // LTE in the connected state ≈ 1.3 W plus a throughput-dependent part (Huang et al. 2012,
    // "A Close Examination of Performance and Power Characteristics of 4G LTE Networks", MobiSys:
    // ≈ 0.44 W per uplink Mbps, 0.05 W per downlink Mbps) → ≈ 2 W at these rates.
    radioPowerW: 2,
    // Devices train only when idle, charging and on unmetered Wi-Fi, which makes participation
    // diurnal (Bonawitz et al. 2019, "Towards Federated Learning at Scale", §8). Assumption: one
    // round ≈ one hour, eligible 6 h a night, nights spread across time zones.
    availability: { kind: 'periodic', onRounds: 6, offRounds: 18, phase: 'random' },
  },
  'phone-high': {
    name: 'phone-high',
    // 2023 flagship (Snapdragon 8 Gen 2 CPU): X3 4×128-bit FMA pipes at 3.2 GHz ≈ 100 GFLOP/s,
    // 4 mid cores 2×128-bit at 2.8 GHz ≈ 180, 3 little ≈ 50 → ≈ 330 GFLOP/s peak (the GPU, ~2
    // TFLOP/s by third-party estimates, is rarely used for training). Assumed ~10% sustained.
    flops: 30e9,
    // Ookla Speedtest Global Index, early 2024, global median mobile: ≈ 50 Mbps down, ≈ 11 Mbps up,
    // ≈ 27 ms latency (rounded; check the current index).
    downlinkBps: 50e6,
    uplinkBps: 11e6,
    latencyMs: 30,
    // Flagship SoCs sustain ≈ 4–6 W under multi-core load before throttling (AnandTech SoC power
    // measurements of Snapdragon 8 Gen 1/2). Approximation.
    trainPowerW: 5,
    // Huang et al. 2012's LTE model, with newer modems assumed more efficient per bit. Approximation.
    radioPowerW: 2.5,
    availability: { kind: 'periodic', onRounds: 8, offRounds: 16, phase: 'random' },
  },
  laptop: {
    name: 'laptop',
    // 8-core x86 with AVX2: 2 × 256-bit FMA = 32 FP32 FLOP/cycle × 8 cores × ~3 GHz ≈ 770 GFLOP/s
    // peak; ~13% sustained. Cross-check: fedsim's own measurement of tfjs-wasm training the MNIST
    // CNN at ≈150 samples/s per core (../shared/DESIGN.md) is ≈ 11 GFLOP/s per core by
    // training-flops.ts' count (74 MFLOP per sample); 8 cores of a native backend ≈ 1e11.
    flops: 1e11,
    // Ookla Speedtest Global Index, early 2024, global median fixed broadband: ≈ 90 Mbps down,
    // ≈ 40 Mbps up, ≈ 10 ms (rounded); the Wi-Fi hop is ignored.
    downlinkBps: 90e6,
    uplinkBps: 40e6,
    latencyMs: 10,
    // Typical 45 W package power of performance-laptop CPUs under all-core load (Intel H-series /
    // AMD HS TDP class); thin-and-light parts draw 15–28 W.
    trainPowerW: 45,
    // Laptop Wi-Fi adapters draw ≈ 1–2 W while transferring. Approximation.
    radioPowerW: 2,
    // Assumption: on, awake and on mains power in 70% of rounds, independently.
    availability: { kind: 'probability', p: 0.7 },
  },
  'gpu-server': {
    name: 'gpu-server',
    // NVIDIA A100 datasheet: 19.5 TFLOP/s FP32 (156 TF32 with tensor cores). Large-model training
    // reaches 30–60% of tensor peak (Chowdhery et al. 2022, PaLM: 46% model FLOP utilisation);
    // fedsim's small models reach far less, so ≈ 50% of the FP32 non-tensor peak.
    flops: 1e13,
    // Assumption: a 10 Gbit/s datacentre link to the coordinator, 1 ms round trip.
    downlinkBps: 10e9,
    uplinkBps: 10e9,
    latencyMs: 1,
    // A100 SXM TDP 400 W; the host's share (CPU, memory, cooling) is not included.
    trainPowerW: 400,
    // A 10 GbE network adapter draws ≈ 5–10 W (e.g. Intel X710 datasheets). Approximation.
    radioPowerW: 10,
    availability: { kind: 'probability', p: 1 },
  },
} as const satisfies Record<string, DeviceProfile>;

// assignProfiles hands the same objects to many clients: one mutation must not change them all.
for (const profile of Object.values(BUILTIN_PROFILES)) {
  Object.freeze(profile.availability);
  Object.freeze(profile);
}

export type BuiltinProfileName = keyof typeof BUILTIN_PROFILES;
export const BUILTIN_PROFILE_NAMES = Object.keys(BUILTIN_PROFILES) as BuiltinProfileName[];

/**
 * Carbon intensity used when a scenario gives none: the world's electricity in 2023, ≈ 480
 * gCO2e/kWh (Ember, Global Electricity Review 2024; rounded).
 */
export const DEFAULT_CARBON_INTENSITY = 480;

const AVAILABILITY_SPEC = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('probability'), p: z.number().gt(0).max(1) }),
  z.strictObject({
    kind: z.literal('periodic'),
    onRounds: z.number().int().min(1),
    offRounds: z.number().int().min(0),
    phase: z.literal('random').optional(),
  }),
]);

export const DEVICE_PROFILE_SPEC = z.strictObject({
  name: z.string().min(1),
  flops: z.number().gt(0),
  downlinkBps: z.number().gt(0),
  uplinkBps: z.number().gt(0),
  latencyMs: z.number().min(0),
  trainPowerW: z.number().min(0),
  radioPowerW: z.number().min(0),
  availability: AVAILABILITY_SPEC,
});

const PROFILE_REF_SPEC = z.union([z.enum(BUILTIN_PROFILE_NAMES as [BuiltinProfileName, ...BuiltinProfileName[]]), DEVICE_PROFILE_SPEC], {
  // A union's own message would hide which field of a custom profile is wrong: name the branch
  // the input was meant for and pass on that branch's first problem.
  error: (issue) => {
    const builtins = BUILTIN_PROFILE_NAMES.join(', ');
    if (typeof issue.input === 'string') return `unknown profile "${issue.input}": expected one of ${builtins} or a custom profile object`;
    const branches = (issue as { errors?: { path: PropertyKey[]; message: string }[][] }).errors;
    const first = branches?.[1]?.[0];
    if (issue.input !== null && typeof issue.input === 'object' && first !== undefined) {
      return `custom profile: ${first.path.map(String).join('.') || '(root)'}: ${first.message}`;
    }
    return `expected one of ${builtins} or a custom profile { name, flops, downlinkBps, uplinkBps, latencyMs, trainPowerW, radioPowerW, availability }`;
  },
});

/** Shares are compared to 1 with this slack, so that decimal shares such as 0.1 + 0.2 + 0.7 pass. */
const SHARE_TOLERANCE = 1e-9;

/** `system.devices` in a scenario. */
export const DEVICES_SPEC = z
  .strictObject({
    population: z.array(z.strictObject({ profile: PROFILE_REF_SPEC, share: z.number().gt(0).max(1) })).min(1),
    /** gCO2e per kWh of the electricity clients draw. */
    carbonIntensity: z.number().min(0).default(DEFAULT_CARBON_INTENSITY),
  })
  .superRefine((devices, ctx) => {
    const names = devices.population.map((entry) => profileName(entry.profile));
    const sum = devices.population.reduce((s, entry) => s + entry.share, 0);
    if (Math.abs(sum - 1) > SHARE_TOLERANCE) {
      const terms = devices.population.map((entry, i) => `${names[i]} ${entry.share}`).join(' + ');
      ctx.addIssue({ code: 'custom', path: ['population'], message: `population shares must sum to 1 (got ${terms} = ${sum})` });
    }
    names.forEach((name, i) => {
      if (names.indexOf(name) !== i) {
        ctx.addIssue({
          code: 'custom',
          path: ['population', i, 'profile'],
          message: `profile ${name} is listed twice; give it one entry with the combined share`,
        });
      }
      const profile = devices.population[i]!.profile;
      if (typeof profile !== 'string' && profile.name in BUILTIN_PROFILES) {
        ctx.addIssue({
          code: 'custom',
          path: ['population', i, 'profile', 'name'],
          message: `custom profile name ${profile.name} is a built-in profile's name; choose another`,
        });
      }
    });
  });

export type DevicesSpec = z.output<typeof DEVICES_SPEC>;
export type PopulationEntry = DevicesSpec['population'][number];

export function resolveProfile(profile: PopulationEntry['profile']): DeviceProfile {
  return typeof profile === 'string' ? BUILTIN_PROFILES[profile] : profile;
}

/**
 * Each client's profile (index = client id): counts apportioned by share (largest remainder, so
 * they sum to clientCount and each is within 1 of its share), positions shuffled by the seed, so
 * that profiles do not line up with client ids and hence with partition order.
 */
export function assignProfiles(clientCount: number, population: readonly PopulationEntry[], seed: number): DeviceProfile[] {
  if (!(Number.isInteger(clientCount) && clientCount >= 0)) throw new RangeError(`assignProfiles: clientCount must be a whole number ≥ 0 (got ${clientCount})`);
  const counts = apportion(
    clientCount,
    population.map((entry) => entry.share),
  );
  const assigned: DeviceProfile[] = [];
  population.forEach((entry, i) => {
    const profile = resolveProfile(entry.profile);
    for (let c = 0; c < counts[i]!; c++) assigned.push(profile);
  });
  return new Rng(seed).fork('device-profiles').shuffle(assigned);
}

/**
 * Whether a client can take part in a round: a pure function of (profile, client, round, seed),
 * so that coordinator and report agree without storing a schedule. Rounds are counted from any
 * integer origin; periodic profiles repeat every onRounds + offRounds rounds.
 */
export function isAvailable(profile: DeviceProfile, clientId: number, round: number, seed: number): boolean {
  const availability = profile.availability;
  if (availability.kind === 'probability') {
    if (availability.p >= 1) return true;
    return new Rng(seed).fork(`availability:${clientId}:${round}`).next() < availability.p;
  }
  const period = availability.onRounds + availability.offRounds;
  const offset = availability.phase === 'random' ? new Rng(seed).fork(`availability-phase:${clientId}`).int(period) : 0;
  const position = (((round + offset) % period) + period) % period;
  return position < availability.onRounds;
}

function profileName(profile: PopulationEntry['profile']): string {
  return typeof profile === 'string' ? profile : profile.name;
}
