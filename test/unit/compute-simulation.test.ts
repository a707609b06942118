import { describe, expect, it } from 'vitest';
import { clientEnergy, clientRoundCost, clientRoundTime, emissionsGrams, type TimeBreakdown } from '../../coordinator/simulation/simulated-clock.js';
import { applyStragglerPolicy, clientsToSelect, type StragglerCandidate } from '../../coordinator/simulation/straggler-policy.js';
import { STRAGGLER_SPEC } from '../../shared/compute/straggler-spec.js';
import { BUILTIN_PROFILES } from '../../shared/devices/device-profiles.js';

describe('simulated clock', () => {
  it('times one 2NN round on a phone-high by hand', () => {
    // phone-high: 30 GFLOP/s, 50 Mbit/s down, 11 Mbit/s up, 30 ms, 5 W training, 2.5 W radio.
    // Download the 2NN as float32: 199,210 × 4 = 796,840 bytes; upload it as fp16: 398,420 bytes.
    // Train 600 samples × 1 epoch × 1,195,380 FLOPs (compute-flops.test.ts) = 717,228,000 FLOPs.
    const cost = clientRoundCost(BUILTIN_PROFILES['phone-high'], { downloadBytes: 796_840, uploadBytes: 398_420, trainingFlops: 717_228_000 }, 480);
    expect(cost.time.latencySeconds).toBeCloseTo(0.03, 12);
    expect(cost.time.downloadSeconds).toBeCloseTo(0.1274944, 12); // 8 · 796,840 / 50e6
    expect(cost.time.computeSeconds).toBeCloseTo(0.0239076, 12); // 717,228,000 / 30e9
    expect(cost.time.uploadSeconds).toBeCloseTo(0.28976, 12); // 8 · 398,420 / 11e6
    expect(cost.time.totalSeconds).toBeCloseTo(0.471162, 12);
    // Energy: 5 W · 0.0239076 s = 0.119538 J; 2.5 W · (0.1274944 + 0.28976) s = 1.043136 J.
    expect(cost.energy.computeJoules).toBeCloseTo(0.119538, 12);
    expect(cost.energy.radioJoules).toBeCloseTo(1.043136, 12);
    expect(cost.energy.totalJoules).toBeCloseTo(1.162674, 12);
    // 1.162674 J / 3.6e6 J/kWh · 480 g/kWh = 1.550232e-4 g.
    expect(cost.emissionsGrams).toBeCloseTo(1.550232e-4, 15);
  });

  it('composes from its parts and refuses nonsense', () => {
    const profile = BUILTIN_PROFILES.laptop;
    const time = clientRoundTime(profile, { downloadBytes: 1e6, uploadBytes: 1e6, trainingFlops: 1e11 });
    expect(time.computeSeconds).toBe(1);
    expect(clientEnergy(profile, time).computeJoules).toBe(45);
    expect(emissionsGrams(3.6e6, 480)).toBe(480); // 1 kWh
    expect(() => clientRoundTime(profile, { downloadBytes: -1, uploadBytes: 0, trainingFlops: 0 })).toThrow(
      'simulated clock: downloadBytes must be a finite number ≥ 0 (got -1)',
    );
  });
});

/** A candidate whose phases are given in seconds: latency 0, download and upload 1 s each. */
function candidate(clientId: number, computeSeconds: number, localSteps?: number): StragglerCandidate {
  const time: TimeBreakdown = { latencySeconds: 0, downloadSeconds: 1, computeSeconds, uploadSeconds: 1, totalSeconds: 2 + computeSeconds };
  // 1 GFLOP/s, 10 W training, 1 W radio.
  return {
    clientId,
    time,
    trainingFlops: computeSeconds * 1e9,
    energy: { computeJoules: 10 * computeSeconds, radioJoules: 2, totalJoules: 10 * computeSeconds + 2 },
    localSteps,
  };
}

describe('straggler policies', () => {
  // Finish times: client 0 → 10 s, 1 → 25 s, 2 → 31 s, 3 → 30 s, 4 → 12 s.
  const round = [candidate(0, 8), candidate(1, 23), candidate(2, 29), candidate(3, 28), candidate(4, 10)];

  it('wait-all keeps everyone and waits for the slowest', () => {
    const outcome = applyStragglerPolicy(round, { policy: 'wait-all' });
    expect(outcome.keptIds).toEqual([0, 1, 2, 3, 4]);
    expect(outcome.roundSeconds).toBe(31);
    expect(outcome.wastedFlops).toBe(0);
  });

  it('deadline drops exactly the clients over it and counts their work as wasted', () => {
    const outcome = applyStragglerPolicy(round, { policy: 'deadline', deadlineSeconds: 30 });
    expect(outcome.keptIds).toEqual([0, 1, 3, 4]); // 30 s is on time; 31 s is not
    expect(outcome.droppedIds).toEqual([2]);
    expect(outcome.roundSeconds).toBe(30); // the server waits out the window
    expect(outcome.wastedFlops).toBe(29e9);
    expect(outcome.wastedJoules).toBe(292);
    expect(outcome.clients.map((c) => c.stepsFraction)).toEqual([1, 1, 0, 1, 1]);
    expect(outcome.clients[2]!.finishSeconds).toBe(31);

    const relaxed = applyStragglerPolicy(round, { policy: 'deadline', deadlineSeconds: 100 });
    expect(relaxed.droppedIds).toEqual([]);
    expect(relaxed.roundSeconds).toBe(31); // nobody late: the round ends at the last report
    const strict = applyStragglerPolicy(round, { policy: 'deadline', deadlineSeconds: 11 });
    expect(strict.keptIds).toEqual([0]);
    expect(strict.wastedFlops).toBe((23 + 29 + 28 + 10) * 1e9);
  });

  it('over-select selects ⌈r·K⌉ and keeps the K fastest', () => {
    expect(clientsToSelect(10, { policy: 'over-select', overSelect: 1.3 })).toBe(13); // not 14: 1.3·10 is 13.000000000000002
    expect(clientsToSelect(3, { policy: 'over-select', overSelect: 1.5 })).toBe(5);
    expect(clientsToSelect(3, { policy: 'over-select', overSelect: 1.5 }, 4)).toBe(4);
    expect(clientsToSelect(3, { policy: 'deadline', deadlineSeconds: 1 })).toBe(3);

    const outcome = applyStragglerPolicy(round, { policy: 'over-select', overSelect: 1.5 }, 3);
    expect(outcome.keptIds).toEqual([0, 1, 4]); // 10 s, 12 s, 25 s
    expect(outcome.droppedIds).toEqual([2, 3]);
    expect(outcome.roundSeconds).toBe(25); // closes at the third report
    expect(outcome.wastedFlops).toBe((29 + 28) * 1e9);

    // With a deadline of 20 s only two report in time: the round runs to the deadline.
    const short = applyStragglerPolicy(round, { policy: 'over-select', overSelect: 1.5, deadlineSeconds: 20 }, 3);
    expect(short.keptIds).toEqual([0, 4]);
    expect(short.roundSeconds).toBe(20);
  });

  it('over-select breaks ties in finish time by client id', () => {
    const tied = [candidate(5, 10), candidate(2, 10), candidate(9, 10)];
    expect(applyStragglerPolicy(tied, { policy: 'over-select', overSelect: 1.5 }, 2).keptIds).toEqual([5, 2]);
    expect(applyStragglerPolicy(tied, { policy: 'over-select', overSelect: 1.5 }, 2).droppedIds).toEqual([9]);
  });

  it('partial-work gives each client the fraction of its steps that fits the deadline', () => {
    // Deadline 20 s, 2 s of transfers each: 18 s of compute available.
    const clients = [
      candidate(0, 9, 10),
      candidate(1, 36, 10),
      candidate(2, 54, 10),
      candidate(3, 36),
      { ...candidate(4, 5), time: { ...candidate(4, 5).time, latencySeconds: 19, totalSeconds: 26 } },
    ];
    const outcome = applyStragglerPolicy(clients, { policy: 'partial-work', deadlineSeconds: 20 });
    // 0: all 10 steps fit (9 s). 1: 18/36 → 5 of 10 steps. 2: 18/54 = 3.33 → 3 steps.
    // 3: no step count given: 18/36 = 0.5 exactly. 4: 19 s latency + 2 s transfers > 20 s: declines.
    expect(outcome.clients.map((c) => c.stepsFraction)).toEqual([1, 0.5, 0.3, 0.5, 0]);
    expect(outcome.clients.map((c) => c.finishSeconds)).toEqual([11, 20, 2 + 0.3 * 54, 20, 19]);
    expect(outcome.keptIds).toEqual([0, 1, 2, 3]);
    expect(outcome.droppedIds).toEqual([4]);
    expect(outcome.clients[2]!.flops).toBeCloseTo(0.3 * 54e9, 3);
    expect(outcome.clients[2]!.joules).toBeCloseTo(0.3 * 540 + 2, 9);
    expect(outcome.wastedFlops).toBe(0); // a client that cannot fit a step declines before working
    expect(outcome.roundSeconds).toBe(20);
  });

  it('refuses a client listed twice', () => {
    expect(() => applyStragglerPolicy([candidate(1, 1), candidate(1, 2)], { policy: 'wait-all' })).toThrow(
      'straggler policy: client 1 appears twice among the candidates',
    );
  });
});

describe('system.stragglers spec', () => {
  const issues = (input: unknown) => {
    const result = STRAGGLER_SPEC.safeParse(input);
    return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('parses each policy and names what is missing', () => {
    expect(STRAGGLER_SPEC.parse({ policy: 'over-select', overSelect: 1.3, deadlineSeconds: 60 })).toEqual({
      policy: 'over-select',
      overSelect: 1.3,
      deadlineSeconds: 60,
    });
    expect(issues({ policy: 'deadline' })).toEqual(['deadlineSeconds: Invalid input: expected number, received undefined']);
    expect(issues({ policy: 'over-select', overSelect: 0.5 })[0]).toMatch(/^overSelect: /);
    expect(issues({ policy: 'fastest' })).toEqual(['policy: expected policy wait-all, deadline, over-select or partial-work']);
    expect(issues({ policy: 'wait-all', deadlineSeconds: 5 })[0]).toMatch(/deadlineSeconds/);
  });
});
