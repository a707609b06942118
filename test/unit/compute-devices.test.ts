import { describe, expect, it } from 'vitest';
import { BUILTIN_PROFILES, DEVICES_SPEC, assignProfiles, isAvailable, type DeviceProfile, type PopulationEntry } from '../../shared/devices/device-profiles.js';

const mix: PopulationEntry[] = [
  { profile: 'phone-low', share: 0.5 },
  { profile: 'phone-high', share: 0.3 },
  { profile: 'laptop', share: 0.2 },
];

function counts(profiles: DeviceProfile[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of profiles) out[p.name] = (out[p.name] ?? 0) + 1;
  return out;
}

describe('profile assignment', () => {
  it('apportions clients by share exactly', () => {
    expect(counts(assignProfiles(10, mix, 1))).toEqual({ 'phone-low': 5, 'phone-high': 3, laptop: 2 });
    expect(counts(assignProfiles(1000, mix, 1))).toEqual({ 'phone-low': 500, 'phone-high': 300, laptop: 200 });
    // 7 clients in thirds: 2⅓ each; the largest remainders (ties to the first) get the spare one.
    const thirds: PopulationEntry[] = [
      { profile: 'laptop', share: 1 / 3 },
      { profile: 'phone-low', share: 1 / 3 },
      { profile: 'gpu-server', share: 1 / 3 },
    ];
    expect(counts(assignProfiles(7, thirds, 1))).toEqual({ laptop: 3, 'phone-low': 2, 'gpu-server': 2 });
    expect(assignProfiles(0, mix, 1)).toEqual([]);
  });

  it('is a pure function of the seed, and shuffles profiles across client ids', () => {
    const names = (seed: number) => assignProfiles(100, mix, seed).map((p) => p.name);
    expect(names(42)).toEqual(names(42));
    expect(names(42)).not.toEqual(names(43));
    // Not laid out in blocks by client id: the first half is not all phone-low.
    expect(
      names(42)
        .slice(0, 50)
        .every((n) => n === 'phone-low'),
    ).toBe(false);
  });

  it('takes custom profiles', () => {
    const custom: DeviceProfile = {
      name: 'raspberry-pi',
      flops: 1e9,
      downlinkBps: 20e6,
      uplinkBps: 5e6,
      latencyMs: 20,
      trainPowerW: 5,
      radioPowerW: 1,
      availability: { kind: 'probability', p: 0.9 },
    };
    const profiles = assignProfiles(
      4,
      [
        { profile: custom, share: 0.25 },
        { profile: 'laptop', share: 0.75 },
      ],
      3,
    );
    expect(profiles.filter((p) => p === custom)).toHaveLength(1);
    expect(profiles.filter((p) => p === BUILTIN_PROFILES.laptop)).toHaveLength(3);
  });
});

describe('availability', () => {
  it('draws each (client, round) with probability p, deterministically', () => {
    const laptop = BUILTIN_PROFILES.laptop; // p = 0.7
    let on = 0;
    const trials = 10_000;
    for (let client = 0; client < 100; client++) {
      for (let round = 0; round < 100; round++) if (isAvailable(laptop, client, round, 5)) on++;
    }
    // Binomial standard deviation √(0.7·0.3/10,000) ≈ 0.0046; 0.02 is over 4σ.
    expect(Math.abs(on / trials - 0.7)).toBeLessThan(0.02);
    expect(isAvailable(laptop, 3, 17, 5)).toBe(isAvailable(laptop, 3, 17, 5));
    const pattern = (seed: number) => Array.from({ length: 200 }, (_, r) => isAvailable(laptop, 3, r, seed));
    expect(pattern(5)).not.toEqual(pattern(6));
    expect(Array.from({ length: 50 }, (_, r) => isAvailable(BUILTIN_PROFILES['gpu-server'], 0, r, 1)).every(Boolean)).toBe(true);
  });

  it('follows the on/off period, from round 0 or from a random phase per client', () => {
    const fixed: DeviceProfile = { ...BUILTIN_PROFILES.laptop, availability: { kind: 'periodic', onRounds: 2, offRounds: 3 } };
    expect(Array.from({ length: 10 }, (_, r) => isAvailable(fixed, 7, r, 1))).toEqual([true, true, false, false, false, true, true, false, false, false]);
    expect(isAvailable(fixed, 7, -5, 1)).toBe(true); // negative rounds wrap too

    const phone = BUILTIN_PROFILES['phone-high']; // 8 on, 16 off, random phase
    const phases = new Set<number>();
    for (let client = 0; client < 50; client++) {
      const day = Array.from({ length: 24 }, (_, r) => isAvailable(phone, client, r, 9));
      expect(day.filter(Boolean)).toHaveLength(8); // any 24 consecutive rounds: exactly 8 on
      expect(Array.from({ length: 24 }, (_, r) => isAvailable(phone, client, r + 24, 9))).toEqual(day);
      phases.add(day.findIndex((on, r) => on && !day[(r + 23) % 24]));
    }
    expect(phases.size).toBeGreaterThan(10);
  });
});

describe('system.devices spec', () => {
  const issues = (input: unknown) => {
    const result = DEVICES_SPEC.safeParse(input);
    return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('parses a population and defaults the carbon intensity', () => {
    expect(
      DEVICES_SPEC.parse({
        population: [
          { profile: 'laptop', share: 0.1 },
          { profile: 'phone-low', share: 0.2 },
          { profile: 'gpu-server', share: 0.7 },
        ],
      }).carbonIntensity,
    ).toBe(480);
    expect(DEVICES_SPEC.parse({ population: [{ profile: 'laptop', share: 1 }], carbonIntensity: 50 }).carbonIntensity).toBe(50);
  });

  it('names the field when shares do not sum to 1', () => {
    expect(
      issues({
        population: [
          { profile: 'phone-low', share: 0.5 },
          { profile: 'laptop', share: 0.4 },
        ],
      }),
    ).toEqual(['population: population shares must sum to 1 (got phone-low 0.5 + laptop 0.4 = 0.9)']);
  });

  it('says what is wrong with a profile', () => {
    expect(issues({ population: [{ profile: 'phone-mid', share: 1 }] })).toEqual([
      'population.0.profile: unknown profile "phone-mid": expected one of phone-low, phone-high, laptop, gpu-server or a custom profile object',
    ]);
    expect(issues({ population: [{ profile: { name: 'pi', flops: 1e9 }, share: 1 }] })[0]).toBe(
      'population.0.profile: custom profile: downlinkBps: Invalid input: expected number, received undefined',
    );
    expect(
      issues({
        population: [
          { profile: 'laptop', share: 0.5 },
          { profile: 'laptop', share: 0.5 },
        ],
      }),
    ).toEqual(['population.1.profile: profile laptop is listed twice; give it one entry with the combined share']);
    const clash = { ...BUILTIN_PROFILES.laptop, availability: { kind: 'probability', p: 0.5 } };
    expect(issues({ population: [{ profile: clash, share: 1 }] })).toEqual([
      "population.0.profile.name: custom profile name laptop is a built-in profile's name; choose another",
    ]);
  });
});
