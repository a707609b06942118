import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { CHARTS_JS, comparisonChartData, paretoFront } from '../../app/report/charts.js';
import { renderComparisonReport, renderRunReport, REPORT_DATA_ID } from '../../app/report/html-report.js';
import { readComparisonRecords, readMetrics, readRunRecords, toComparison } from '../../app/report/run-records.js';
import { writeReport } from '../../app/report/write-report.js';

let fixtures: string;

/** A metrics line as the coordinator writes it; `dp` adds the accountant's privacy object. */
function roundLine(round: number, accuracy: number, dp?: { epsilon: number; clipNorm: number }): Record<string, unknown> {
  return {
    round,
    selected: 10,
    selectedClients: [1, 2, 3],
    completed: round === 3 ? 8 : 10,
    dropped: round === 3 ? 1 : 0,
    rejected: round === 3 ? 1 : 0,
    trainLoss: 1 / round,
    testLoss: 1.2 / round,
    testAccuracy: accuracy,
    testMse: null,
    wallMs: 1500,
    evalMs: 200,
    clientTrainMs: 9000,
    bytesDown: 800_000,
    bytesUp: 790_000,
    workers: 2,
    ...(dp
      ? {
          privacy: {
            epsilon: dp.epsilon,
            delta: 1e-5,
            conversion: 'tight',
            noiseMultiplier: 1.1,
            clipNorm: dp.clipNorm,
            cohortSize: 10,
            expectedClients: 10,
            mode: 'central',
          },
        }
      : {}),
  };
}

/** A run folder as `fedsim run` leaves it. */
function writeRunFixture(dir: string, name: string, lines: Record<string, unknown>[], summary: Record<string, unknown> | null = {}): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'scenario.yaml'), stringify({ name, rounds: lines.length, dataset: { name: 'mnist' } }));
  writeFileSync(join(dir, 'metrics.jsonl'), `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
  if (summary !== null) {
    const last = lines.at(-1)!;
    writeFileSync(
      join(dir, 'summary.json'),
      JSON.stringify({
        name,
        runId: `${name}-2025`,
        status: 'completed',
        roundsCompleted: lines.length,
        roundsPlanned: lines.length,
        finalTestAccuracy: last.testAccuracy,
        totalWallMs: 4500,
        bytesDown: 2_400_000,
        bytesUp: 2_370_000,
        transport: { kind: 'nats' },
        ...summary,
      }),
    );
  }
  return dir;
}

const dpRounds = [
  roundLine(1, 0.6, { epsilon: 0.8, clipNorm: 1 }),
  roundLine(2, 0.75, { epsilon: 1.3, clipNorm: 0.7 }),
  roundLine(3, 0.81, { epsilon: 1.7, clipNorm: 0.6 }),
];

/** The run report's awkward summary: text that would end the data script if not escaped. */
const hostileError = 'worker said </script><script>alert(1)</script> \u2028 and <!-- this';

let runDir: string;
let comparisonDir: string;

beforeAll(() => {
  fixtures = mkdtempSync(join(tmpdir(), 'fedsim-report-fixtures-'));
  runDir = writeRunFixture(join(fixtures, 'dp-run'), 'dp-run', dpRounds, {
    error: hostileError,
    privacy: { mode: 'central', clipping: 'adaptive', epsilon: 1.7, delta: 1e-5 },
    membershipInference: {
      members: 500,
      nonMembers: 500,
      attacks: [
        { attack: 'loss-threshold', auc: 0.53, tprAt1PctFpr: 0.012 },
        { attack: 'likelihood-ratio', auc: 0.58, tprAt1PctFpr: 0.03 },
      ],
    },
  });

  comparisonDir = join(fixtures, 'sweep');
  const variant = (name: string, accuracy: number, epsilon: number | null, stopReason = 'rounds completed') => {
    const lines = [1, 2, 3].map((r) => roundLine(r, (accuracy * r) / 3, epsilon === null ? undefined : { epsilon: (epsilon * r) / 3, clipNorm: 1 }));
    writeRunFixture(join(comparisonDir, 'runs', name), name, lines);
    return {
      name,
      status: 'completed',
      runDir: `runs/${name}`,
      overrides: { 'privacy.dp.noiseMultiplier': name },
      finalAccuracy: accuracy,
      finalMse: null,
      epsilon,
      rounds: 3,
      stopReason,
      miaAuc: 0.52,
      wallMs: 4500,
      bytes: 4_770_000,
    };
  };
  const comparison = {
    sweep: 'noise',
    base: 'scenarios/mnist-dp.yaml',
    description: 'noise multiplier against accuracy & ε',
    createdAt: '2025-01-01T00:00:00.000Z',
    delta: 1e-5,
    variants: [
      variant('z-1.0', 0.9, 2.5),
      variant('z-2.0', 0.85, 1.2, 'privacy budget reached'),
      variant('z-0.5', 0.88, 6), // dominated by z-1.0: more ε, less accuracy
      variant('no-dp', 0.95, null),
      {
        name: 'z-9',
        status: 'failed',
        error: 'round 1: every client dropped <out of memory>',
        overrides: { 'privacy.dp.noiseMultiplier': 9 },
        finalAccuracy: null,
        finalMse: null,
        epsilon: null,
        rounds: 0,
        miaAuc: null,
        wallMs: 300,
        bytes: 0,
      },
    ],
  };
  writeFileSync(join(comparisonDir, 'comparison.json'), JSON.stringify(comparison));
});

afterAll(() => rmSync(fixtures, { recursive: true, force: true }));

function embeddedData(html: string): unknown {
  const match = new RegExp(`<script type="application/json" id="${REPORT_DATA_ID}">(.*?)</script>`, 's').exec(html);
  expect(match, 'the data script element').not.toBeNull();
  return JSON.parse(match![1]!);
}

/** src/href/url() that would fetch anything: the report has to open offline. */
function networkReferences(html: string): string[] {
  return html.match(/(?:\b(?:src|href)\s*=\s*["']?\s*|url\(\s*["']?\s*)(?:https?:)?\/\/[^\s"'>)]*/gi) ?? [];
}

interface FakeChart {
  opts: { title: string; scales: { x: { time: boolean } }; series: { label: string }[] };
  data: (number | null)[][];
}

/**
 * Runs the page's own scripts (chart code and boot) against a stand-in DOM and uPlot, so the
 * wiring from embedded JSON to chart options is checked without a browser.
 */
function drawPage(html: string): { charts: FakeChart[]; container: { textContent: string; children: unknown[] } } {
  const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]!);
  const charts: FakeChart[] = [];
  const element = () => ({
    className: '',
    textContent: '',
    clientWidth: 600,
    children: [] as unknown[],
    appendChild(c: unknown) {
      this.children.push(c);
      return c;
    },
    removeChild(c: unknown) {
      this.children = this.children.filter((x) => x !== c);
    },
  });
  const container = element();
  const dataText = embeddedDataText(html);
  class FakeUPlot {
    static paths = { stepped: () => () => null };
    constructor(opts: FakeChart['opts'], data: FakeChart['data']) {
      charts.push({ opts, data });
    }
    setData() {}
    setSize() {}
    destroy() {}
  }
  const document = {
    createElement: element,
    getElementById: (id: string) => (id === 'charts' ? container : id === REPORT_DATA_ID ? { textContent: dataText } : null),
  };
  const context = { document, uPlot: FakeUPlot };
  // The first script is uPlot itself, replaced here by the stand-in.
  for (const script of scripts.slice(1)) runInNewContext(script, context);
  return { charts, container };
}

function embeddedDataText(html: string): string {
  return new RegExp(`<script type="application/json" id="${REPORT_DATA_ID}">(.*?)</script>`, 's').exec(html)![1]!;
}

describe('run records', () => {
  it('reads scenario, summary and rounds, with missing fields as null', async () => {
    const records = await readRunRecords(runDir);
    expect(records.scenario).toMatchObject({ name: 'dp-run' });
    expect(records.summary).toMatchObject({ status: 'completed', error: hostileError });
    expect(records.rounds.map((r) => r.round)).toEqual([1, 2, 3]);
    expect(records.rounds[2]).toMatchObject({ testAccuracy: 0.81, testMse: null, dropped: 1, privacy: { epsilon: 1.7, clipNorm: 0.6, mode: 'central' } });
  });

  it('skips blank lines; a bad line is an error naming the file and line', async () => {
    const dir = join(fixtures, 'bad-metrics');
    mkdirSync(dir);
    const file = join(dir, 'metrics.jsonl');
    writeFileSync(file, `${JSON.stringify(roundLine(1, 0.5))}\n\n{"round": 2, "testAcc\n`);
    await expect(readMetrics(file)).rejects.toThrow(`${file} line 3: not valid JSON`);
    writeFileSync(file, `${JSON.stringify(roundLine(1, 0.5))}\n   \n{"testAccuracy": 0.5}\n`);
    await expect(readMetrics(file)).rejects.toThrow(`${file} line 3: missing the round number`);
    writeFileSync(file, `[1, 2]\n`);
    await expect(readMetrics(file)).rejects.toThrow(`${file} line 1: expected a JSON object per round (got a list)`);
    await expect(writeReport(dir)).rejects.toThrow(`${file} line 1`);
  });

  it('reads a comparison with the rounds of every variant that has a run folder', async () => {
    const { comparison, variantRounds } = await readComparisonRecords(comparisonDir);
    expect(comparison.variants.map((v) => v.name)).toEqual(['z-1.0', 'z-2.0', 'z-0.5', 'no-dp', 'z-9']);
    expect(comparison.variants[4]).toMatchObject({ status: 'failed', runDir: null, epsilon: null, error: 'round 1: every client dropped <out of memory>' });
    expect(variantRounds.map((r) => r?.length ?? null)).toEqual([3, 3, 3, 3, null]);
  });
});

describe('Pareto front', () => {
  const p = (name: string, epsilon: number, value: number) => ({ name, epsilon, value });

  it('keeps the points with the best accuracy for their ε or less, by ε', () => {
    const points = [p('c', 4, 0.9), p('a', 1, 0.7), p('dominated', 3, 0.65), p('b', 2, 0.8), p('worse-at-more', 5, 0.85)];
    expect(paretoFront(points).map((x) => x.name)).toEqual(['a', 'b', 'c']);
  });

  it('handles ties, a single point, nothing, and non-finite values', () => {
    expect(paretoFront([p('first', 1, 0.8), p('same', 1, 0.8), p('less', 1, 0.7)]).map((x) => x.name)).toEqual(['first']);
    expect(paretoFront([p('only', 3, 0.5)]).map((x) => x.name)).toEqual(['only']);
    expect(paretoFront([])).toEqual([]);
    expect(paretoFront([p('no-dp', Infinity, 0.99), p('nan', 2, Number.NaN), p('dp', 2, 0.6)]).map((x) => x.name)).toEqual(['dp']);
    // Equal accuracy at a larger ε buys nothing.
    expect(paretoFront([p('cheap', 1, 0.8), p('dear', 2, 0.8)]).map((x) => x.name)).toEqual(['cheap']);
  });

  it('minimises for MSE', () => {
    expect(paretoFront([p('a', 1, 30), p('b', 2, 20), p('c', 3, 25), p('d', 4, 10)], 'lower').map((x) => x.name)).toEqual(['a', 'b', 'd']);
  });
});

describe('run report', () => {
  let html: string;
  beforeAll(async () => {
    html = renderRunReport(await readRunRecords(runDir));
  });

  it('needs no network: uPlot and its CSS inlined, no remote src or href', () => {
    const require = createRequire(import.meta.url);
    expect(networkReferences(html)).toEqual([]);
    expect(html).not.toMatch(/<link\b|<script[^>]*\ssrc=/i);
    expect(html).toContain(readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'));
    expect(html).toContain(readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'));
  });

  it('embeds the records as JSON that parses back, unbroken by </script> or U+2028 in them', async () => {
    expect(embeddedData(html)).toEqual(JSON.parse(JSON.stringify(await readRunRecords(runDir))));
    // The only script closers are those of the page's own scripts.
    expect(html.match(/<\/script>/g)).toHaveLength(4);
    expect(html).not.toContain('<script>alert(1)');
  });

  it('shows the header facts, the grouped summary and the membership-inference table', () => {
    expect(html).toContain('<h1>dp-run-2025</h1>');
    expect(html).toContain('81.00%');
    expect(html).toContain('ε = 1.7, δ = 0.00001');
    expect(html).toContain('<h3>Run</h3>');
    expect(html).toContain('<th>Transport</th><td>nats</td>');
    expect(html).toContain('<h3>Privacy</h3>');
    expect(html).toContain('<th>Differential privacy</th><td>central, adaptive clipping</td>');
    expect(html).toContain(
      '<thead><tr><th>attack</th><th>AUC</th><th>TPR at 1% FPR</th><th>TPR at 10% FPR</th><th>advantage (max TPR − FPR)</th></tr></thead>',
    );
    expect(html).toContain('<td>likelihood-ratio</td><td>0.580</td><td>3.00%</td><td>–</td><td>–</td>');
    expect(html).toContain('worker said &#60;/script&#62;');
  });

  it('draws accuracy, loss, ε, the varying clip norm, bytes and clients', () => {
    const { charts } = drawPage(html);
    expect(charts.map((c) => c.opts.title)).toEqual(['Test accuracy', 'Loss', 'Privacy spent (ε)', 'Clip norm', 'Bytes per round', 'Clients per round']);
    for (const chart of charts) {
      expect(chart.opts.scales.x.time).toBe(false);
      expect(chart.data).toHaveLength(chart.opts.series.length);
      for (const column of chart.data) expect(column).toHaveLength(3);
    }
    expect(charts[0]!.data).toEqual([
      [1, 2, 3],
      [0.6, 0.75, 0.81],
    ]);
    expect(charts[5]!.opts.series.map((s) => s.label)).toEqual(['round', 'completed', 'dropped', 'rejected']);
  });

  it('leaves out privacy charts without DP and a fixed clip norm; reads a run without summary', async () => {
    const plain = writeRunFixture(join(fixtures, 'plain'), 'plain', [roundLine(1, 0.5), roundLine(2, 0.6)], null);
    const plainHtml = renderRunReport(await readRunRecords(plain));
    expect(drawPage(plainHtml).charts.map((c) => c.opts.title)).toEqual(['Test accuracy', 'Loss', 'Bytes per round', 'Clients per round']);
    expect(plainHtml).toContain('no summary.json');
    expect(plainHtml).toContain('<h1>plain</h1>');

    const fixedClip = writeRunFixture(
      join(fixtures, 'fixed-clip'),
      'fixed-clip',
      [1, 2].map((r) => roundLine(r, 0.5, { epsilon: r, clipNorm: 1 })),
    );
    expect(drawPage(renderRunReport(await readRunRecords(fixedClip))).charts.map((c) => c.opts.title)).not.toContain('Clip norm');
  });
});

describe('run report: federated evaluation', () => {
  it('draws the last evaluated round as a histogram of client accuracy and lists the spread per round', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'fedsim-report-clients-')), 'run');
    const lines = [1, 2].map((r) => ({
      ...roundLine(r, 0.5 + r / 10),
      federatedEvaluation: { clients: 4, accuracy: 0.5, accuracyMean: 0.45, accuracyP10: 0.05 * r, accuracyWorst: 0.05 * r },
    }));
    writeRunFixture(dir, 'clients', lines);
    const clients = [0.05, 0.3, 0.62, 0.95].flatMap((accuracy, clientId) => [1, 2].map((round) => ({ round, clientId, samples: 10, loss: 1, accuracy })));
    writeFileSync(join(dir, 'clients.jsonl'), `${clients.map((c) => JSON.stringify(c)).join('\n')}\n{not json\n`);
    const html = renderRunReport(await readRunRecords(dir));
    const bins = [...html.matchAll(/<tr data-bin="(\d)"><td>([^<]*)<\/td><td><span[^>]*><\/span> (\d+)/g)].map((m) => [m[2], Number(m[3])]);
    expect(bins).toEqual([
      ['0–10%', 1],
      ['10–20%', 0],
      ['20–30%', 0],
      ['30–40%', 1],
      ['40–50%', 0],
      ['50–60%', 0],
      ['60–70%', 1],
      ['70–80%', 0],
      ['80–90%', 0],
      ['90–100%', 1],
    ]);
    expect(html).toContain('Round 2, 4 clients');
    expect(html).toContain('<tr><td>2</td><td>4</td><td>50.00%</td><td>45.00%</td><td>10.00%</td><td>10.00%</td></tr>');
    // A run without federated evaluation has no such section.
    const plain = writeRunFixture(join(dirname(dir), 'plain'), 'plain', [roundLine(1, 0.5)]);
    expect(renderRunReport(await readRunRecords(plain))).not.toContain('federated evaluation');
  });
});

/** summary.json as `fedsim run` writes it, float noise and all (a DP run on simulated phones). */
const realisticSummary = {
  name: 'tiny',
  runId: 'tiny-2026',
  runDir: '/tmp/runs/tiny-2026',
  status: 'completed',
  stopReason: 'target reached',
  roundsCompleted: 3,
  roundsPlanned: 15,
  clients: 10,
  clientsPerRound: 4,
  finalTestAccuracy: 0.9230000000000002,
  finalTestLoss: 0.30079394531250003,
  finalTestMse: null,
  target: { accuracy: 0.92 },
  roundsToTarget: 3,
  totalWallMs: 4503.992305,
  meanRoundMs: 774.8721429999999,
  backend: 'cpu (pure JS)',
  transport: { kind: 'nats', origin: 'NATS_URL', address: 'nats://127.0.0.1:4222' },
  workers: { count: 2, backends: { w1: 'wasm', w2: 'wasm' } },
  bytesDown: 101887,
  bytesUp: 102061,
  parameters: 25450,
  clientsDropped: 0,
  updatesRejected: 1,
  privacy: {
    mode: 'central',
    clipping: 'fixed',
    q: 0.4,
    expectedClients: 4,
    initialClipNorm: 1,
    noiseMultiplier: 0.5,
    updateNoiseMultiplier: 0.5,
    countNoiseStd: 0,
    delta: 0.00001,
    conversion: 'tight',
    calibrated: false,
    targetQuantile: 0.5,
    clipLearningRate: 0.2,
    epsilon: 16.60523638249615,
    epsilonPerRelease: null,
  },
  membershipInference: {
    members: 300,
    nonMembers: 500,
    referenceSamples: 500,
    attacks: [{ attack: 'loss-threshold', auc: 0.4853733333333333, tprAt1PctFpr: 0.006666666666666667, tprAt10PctFpr: 0.07, advantage: 0.009999999999999953 }],
  },
  compute: { flops: 45846000, wastedFlops: 0, simulatedSeconds: 0.563922, energyJoules: 7200.5, emissionsGrams: 0.0001343792, stragglers: 0 },
  costToTarget: {
    flops: 45846000,
    wastedFlops: 0,
    simulatedSeconds: 0.563922,
    energyJoules: 1.007844,
    emissionsGrams: 0.0001343792,
    stragglers: 0,
    rounds: 3,
    bytes: 203948,
    wallMs: 2324.6164289999997,
  },
  secureAggregation: null,
};

/** What a reader sees: the page without the embedded data and scripts. */
function visibleText(html: string): string {
  return html.replace(/<script[\s\S]*?<\/script>/g, '').replace(/<style[\s\S]*?<\/style>/g, '');
}

describe('run report summary', () => {
  let html: string;
  beforeAll(async () => {
    const dir = writeRunFixture(join(fixtures, 'realistic'), 'tiny', [roundLine(1, 0.8), roundLine(2, 0.9), roundLine(3, 0.923)], realisticSummary);
    writeFileSync(
      join(dir, 'scenario.yaml'),
      stringify({
        name: 'tiny',
        dataset: { name: 'mnist', trainLimit: 3000 },
        partition: { kind: 'dirichlet', clients: 10, alpha: 0.5 },
        model: { name: 'mlp', hidden: [32] },
        training: { epochs: 1, batchSize: 10, optimizer: 'sgd', learningRate: 0.1 },
        evaluation: { every: 1, targetAccuracy: 0.92 },
      }),
    );
    html = renderRunReport(await readRunRecords(dir));
  });

  it('groups the summary into run, data and model, privacy, compute and cost to target', () => {
    expect([...html.matchAll(/<h3>([^<]+)<\/h3>/g)].map((m) => m[1])).toEqual(['Run', 'Data and model', 'Privacy', 'Compute', 'Cost to target']);
  });

  it('gives every figure its unit and rounding, with no raw JSON or float noise', () => {
    const groups = Object.fromEntries(
      [...html.matchAll(/<h3>([^<]+)<\/h3><table class="kv"><tbody>(.*?)<\/tbody>/g)].map((g): [string, Record<string, string>] => [
        g[1]!,
        Object.fromEntries([...g[2]!.matchAll(/<tr><th>([^<]+)<\/th><td>([^<]*)<\/td><\/tr>/g)].map((m): [string, string] => [m[1]!, m[2]!])),
      ]),
    );
    const rows = { ...groups['Run'], ...groups['Data and model'], ...groups['Privacy'], ...groups['Compute'] };
    expect(groups['Cost to target']).toEqual({
      Rounds: '3',
      'Wall time': '2.3 s',
      Bytes: '204 kB',
      'Training FLOPs': '45.8 MFLOP',
      'Simulated time': '564 ms',
      'Device energy': '1.01 J',
      Emissions: '0.134 mg CO2e',
    });
    expect(rows).toMatchObject({
      Status: 'completed (target reached)',
      Target: 'test accuracy 92.00%, reached in round 3',
      'Final test loss': '0.3008',
      'Mean round': '775 ms',
      Transport: 'nats at nats://127.0.0.1:4222 (NATS_URL)',
      Workers: '2 (wasm)',
      Dataset: 'mnist (trainLimit 3000)',
      Partition: 'dirichlet over 10 clients (alpha 0.5)',
      Model: 'mlp (hidden 32)',
      Parameters: '25,450',
      'Local training': 'E = 1, B = 10, sgd at learning rate 0.1',
      'ε spent': '16.61 at δ = 0.00001 (tight conversion)',
      Sampling: 'Poisson, q = 0.4 (4 clients expected per round)',
      'Training FLOPs': '45.8 MFLOP',
      'Device energy': '7.2 kJ (2 Wh)',
      Emissions: '0.134 mg CO2e',
      'Updates rejected': '1',
    });
    expect(rows['Wall time']).toBe('4.5 s');
    const text = visibleText(html);
    expect(text).toContain('<td>loss-threshold</td><td>0.485</td><td>0.67%</td><td>7.00%</td><td>0.010</td>');
    expect(text).not.toMatch(/\d\.\d{6,}/);
    expect(text).not.toMatch(/[{[]&#34;|&#34;[a-zA-Z]+&#34;:/);
    expect(text).not.toMatch(/<th>[a-z]+[A-Z][A-Za-z]*<\/th>/);
  });

  it('draws the target as a dashed line on the accuracy chart', () => {
    const { charts } = drawPage(html);
    expect(charts[0]!.opts.title).toBe('Test accuracy');
    expect(charts[0]!.opts.series.map((s) => s.label)).toEqual(['round', 'test accuracy', 'target']);
    expect(charts[0]!.data[2]).toEqual([0.92, 0.92, 0.92]);
  });

  it('says a run stopped by hand stopped, not completed', async () => {
    const dir = writeRunFixture(join(fixtures, 'stopped'), 'stopped', [roundLine(1, 0.5)], { stopReason: 'stopped', roundsPlanned: 50 });
    const stopped = renderRunReport(await readRunRecords(dir));
    expect(stopped).toContain('<dt>Status</dt><dd>stopped</dd>');
    expect(stopped).toContain('<tr><th>Status</th><td>stopped</td></tr>');
    expect(visibleText(stopped)).not.toMatch(/<(dd|td)>completed/);
  });
});

describe('comparison report', () => {
  let html: string;
  beforeAll(async () => {
    html = renderComparisonReport(await readComparisonRecords(comparisonDir));
  });

  it('needs no network and embeds data that parses back', async () => {
    expect(networkReferences(html)).toEqual([]);
    const data = embeddedData(html) as ReturnType<typeof comparisonChartData>;
    expect(data).toEqual(JSON.parse(JSON.stringify(comparisonChartData(await readComparisonRecords(comparisonDir)))));
    expect(data.scatter.points.map((p) => p.name)).toEqual(['z-1.0', 'z-2.0', 'z-0.5']);
    expect(data.scatter.front.map((p) => p.name)).toEqual(['z-2.0', 'z-1.0']);
  });

  it('has a table row per variant, with the failed one and its error', () => {
    const rows = html
      .match(/<table class="variants">[\s\S]*?<\/table>/)![0]
      .match(/<tbody>[\s\S]*<\/tbody>/)![0]
      .split('<tr')
      .slice(1);
    expect(rows).toHaveLength(5);
    expect(rows[0]).toContain('z-1.0 <span class="badge">Pareto</span>');
    expect(rows[0]).toContain('<td>90.00%</td><td>2.5</td><td>3</td><td>0.520</td><td>4.5 s</td><td>4.77 MB</td>');
    expect(rows[1]).toContain('<td>3 (privacy budget reached)</td>');
    expect(rows[2]).not.toContain('Pareto');
    expect(rows[3]).toContain('∞ (no DP)');
    expect(rows[4]).toContain('class="failed"');
    expect(rows[4]).toContain('round 1: every client dropped &#60;out of memory&#62;');
    expect(html).toContain('<p>noise multiplier against accuracy &#38; ε</p>');
    expect(html).toMatch(/Without differential privacy \(ε = ∞\), so not on the ε charts: no-dp\./);
  });

  it('draws accuracy and ε per variant and the ε scatter with its front', () => {
    const { charts } = drawPage(html);
    expect(charts.map((c) => c.opts.title)).toEqual(['Test accuracy per variant', 'Privacy spent (ε) per variant', 'Final accuracy vs ε']);
    expect(charts[0]!.opts.series.map((s) => s.label)).toEqual(['round', 'z-1.0', 'z-2.0', 'z-0.5', 'no-dp']);
    expect(charts[1]!.opts.series.map((s) => s.label)).toEqual(['round', 'z-1.0', 'z-2.0', 'z-0.5']);
    const [x, ...series] = charts[2]!.data;
    expect(x).toEqual([1.2, 2.5, 6]);
    expect(charts[2]!.opts.series.at(-1)!.label).toBe('Pareto front');
    expect(series.at(-1)).toEqual([0.85, 0.9, null]);
  });
});

describe('writeReport', () => {
  it('writes report.html into a run or comparison folder and returns its path', async () => {
    for (const dir of [runDir, comparisonDir]) {
      const path = await writeReport(dir);
      expect(path).toBe(join(dir, 'report.html'));
      expect(readFileSync(path, 'utf8')).toMatch(/^<!doctype html>/);
      expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    }
  });

  it('reports a run that failed before its first round (summary, no metrics)', async () => {
    const dir = join(fixtures, 'failed-early');
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'summary.json'),
      JSON.stringify({ name: 'failed-early', status: 'failed', error: 'privacy.dp.countNoise: too small', roundsCompleted: 0, roundsPlanned: 8 }),
    );
    const html = readFileSync(await writeReport(dir), 'utf8');
    expect(html).toContain('<p class="error">privacy.dp.countNoise: too small</p>');
    expect(html).toContain('<dd>0 / 8</dd>');
    const { charts, container } = drawPage(html);
    expect(charts).toEqual([]);
    expect(container.children).toHaveLength(1);
  });

  it('refuses a folder that is neither, saying what it expected', async () => {
    const empty = join(fixtures, 'empty');
    mkdirSync(empty);
    await expect(writeReport(empty)).rejects.toThrow(
      `${empty}: neither a run directory (expected metrics.jsonl or summary.json) nor a comparison directory (expected comparison.json)`,
    );
    await expect(writeReport(join(fixtures, 'missing'))).rejects.toThrow('no such directory');
  });
});

describe('chart script', () => {
  it('is plain JS that defines FedsimCharts', () => {
    const context: Record<string, unknown> = {};
    runInNewContext(CHARTS_JS, context);
    expect(Object.keys(context.FedsimCharts as object)).toEqual(
      expect.arrayContaining(['renderRun', 'renderComparison', 'runChartSpecs', 'comparisonChartSpecs', 'mount']),
    );
  });
});

describe('comparison report of a crossWith sweep', () => {
  const variant = (row: string, column: string, finalAccuracy: number, attackSuccessRate: number | null) => ({
    name: `${row}_${column}`,
    status: 'completed',
    runDir: `${row}_${column}`,
    overrides: {},
    cell: { row, column },
    finalAccuracy,
    attackSuccessRate,
    rounds: 3,
  });
  const comparison = toComparison(
    {
      sweep: 'robustness',
      variants: [
        variant('none', 'fedavg', 0.9, null),
        variant('none', 'median', 0.88, null),
        variant('backdoor', 'fedavg', 0.87, 0.95),
        variant('backdoor', 'median', 0.86, 0.1),
      ],
    },
    'comparison.json',
  );

  it('draws final accuracy and attack success rate as attacks × defences heatmaps', () => {
    const html = renderComparisonReport({ comparison, variantRounds: comparison.variants.map(() => null) });
    const heatmaps = html.match(/<table class="numbers heatmap">[\s\S]*?<\/table>/g)!;
    expect(heatmaps).toHaveLength(2);
    expect(heatmaps[0]).toContain('<th></th><th>fedavg</th><th>median</th>');
    expect(heatmaps[0]).toContain('<tr><th>backdoor</th><td style="background:hsl(104,70%,80%)">87.00%</td>');
    // Attack success: green when low. The clean row has no backdoor to score.
    expect(heatmaps[1]).toContain('<tr><th>none</th><td class="muted">–</td><td class="muted">–</td></tr>');
    expect(heatmaps[1]).toContain('<td style="background:hsl(6,70%,80%)">95.00%</td><td style="background:hsl(108,70%,80%)">10.00%</td>');
  });
});
