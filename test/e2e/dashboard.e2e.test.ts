/**
 * The dashboard in a real browser against a real API server: a run started over REST shows up in
 * the list, its page follows it live (round counter, accuracy chart, client grid) in two browser
 * pages at once, the Stop button ends a run, the finished run's report draws its charts with
 * legends that show final values, and `fedsim compare` folders are listed beside the runs.
 *
 * Needs Debian's chromium (apt-get install chromium), or FEDSIM_CHROMIUM pointing at a Chromium.
 * Without it the test fails: the dashboard is only tested here.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiServer } from '../../app/api/api-server.js';
import type { RunListItem, RunState } from '../../app/api/api-types.js';
import { ensureDashboardBuilt } from '../../app/dashboard/build-dashboard.js';
import { writeReport } from '../../app/report/write-report.js';

const CHROMIUM = process.env.FEDSIM_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('artifacts/', import.meta.url));
const ROUNDS = 4;

/** The tiny run: seconds on 2 cores, enough rounds to watch the counter move. */
function tinyScenario(name: string, rounds = ROUNDS): Record<string, unknown> {
  return {
    name,
    seed: 11,
    dataset: { name: 'mnist', trainLimit: 3000, testLimit: 1000 },
    partition: { kind: 'iid', clients: 10 },
    model: { name: 'mlp', hidden: [32] },
    rounds,
    clientsPerRound: 4,
    training: { epochs: 1, batchSize: 10, optimizer: 'sgd', learningRate: 0.1 },
    // Out of reach in these few rounds: the run goes on, and its charts draw the target line.
    evaluation: { every: 1, targetAccuracy: 0.99, federated: { every: 2, clients: 5 } },
    system: { backend: 'cpu', transport: 'in-process', workers: 1, roundTimeoutSeconds: 60 },
    output: { saveModel: false },
    privacy: { membershipInference: false },
  };
}

let server: ApiServer;
let browser: Browser;
let runsDir: string;

async function api<T>(path: string, init?: { method: string; body: unknown }): Promise<{ status: number; body: T }> {
  const response = await fetch(
    `${server.url}${path}`,
    init ? { method: init.method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(init.body) } : undefined,
  );
  return { status: response.status, body: (await response.json()) as T };
}

async function startRun(scenario: Record<string, unknown>): Promise<RunListItem> {
  const { status, body } = await api<RunListItem>('/api/runs', { method: 'POST', body: { scenario } });
  expect(status, JSON.stringify(body)).toBe(201);
  return body;
}

async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/**
 * Records every value the round counter and the accuracy chart's point count take, from now on:
 * rounds of this run take a fraction of a second, quicker than polling from the test could see.
 */
async function recordProgress(page: Page): Promise<void> {
  await page.evaluate(() => {
    const seen = { rounds: [] as number[], points: [] as number[] };
    (window as unknown as { progress: typeof seen }).progress = seen;
    const sample = () => {
      const rounds = Number(document.querySelector('[data-testid="round-counter"]')?.getAttribute('data-rounds-completed') ?? NaN);
      const points = Number(document.querySelector('[data-testid="chart-quality"]')?.getAttribute('data-points') ?? 0);
      if (!Number.isNaN(rounds) && seen.rounds.at(-1) !== rounds) seen.rounds.push(rounds);
      if (seen.points.at(-1) !== points) seen.points.push(points);
    };
    new MutationObserver(sample).observe(document.body, { subtree: true, childList: true, attributes: true });
    sample();
  });
}

async function progressOf(page: Page): Promise<{ rounds: number[]; points: number[] }> {
  return page.evaluate(() => (window as unknown as { progress: { rounds: number[]; points: number[] } }).progress);
}

/** Per chart, its legend's [label, value] pairs, the x axis first. */
async function legendEntries(page: Page): Promise<[string, string][][]> {
  return page.$$eval('#charts .u-legend', (legends) =>
    legends.map((legend) =>
      [...legend.querySelectorAll('tr')].map((row): [string, string] => [
        row.querySelector('.u-label')?.textContent?.trim() ?? '',
        row.querySelector('.u-value')?.textContent?.trim() ?? '',
      ]),
    ),
  );
}

/** Pixels that are not fully transparent: the canvas has been drawn on. */
async function drawnCanvases(page: Page, selector: string): Promise<number[]> {
  return page.$$eval(selector, (canvases) =>
    (canvases as HTMLCanvasElement[]).map((canvas) => {
      const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
      let painted = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) painted++;
      return painted;
    }),
  );
}

/** A `fedsim compare` folder as it leaves one: comparison.json, a run folder per variant, the reports. */
async function writeComparisonFixture(): Promise<string> {
  const id = 'noise-2025-01-01_00-00-00-000';
  const dir = join(runsDir, id);
  const variants = [
    { name: 'z-1', stopReason: 'rounds completed', finalAccuracy: 0.82, epsilon: 2.5 },
    { name: 'z-2', stopReason: 'stopped', finalAccuracy: 0.7, epsilon: 1.2 },
  ];
  for (const [i, v] of variants.entries()) {
    const runDir = join(dir, v.name);
    mkdirSync(runDir, { recursive: true });
    const rounds = [1, 2].map((round) => ({
      round,
      testAccuracy: (v.finalAccuracy * round) / 2,
      trainLoss: 1 / round,
      privacy: { epsilon: (v.epsilon * round) / 2, delta: 1e-5 },
    }));
    writeFileSync(join(runDir, 'metrics.jsonl'), rounds.map((r) => JSON.stringify(r)).join('\n'));
    writeFileSync(
      join(runDir, 'summary.json'),
      JSON.stringify({
        name: 'noise',
        runId: `noise-${v.name}`,
        status: 'completed',
        stopReason: v.stopReason,
        roundsCompleted: 2,
        roundsPlanned: 2 + i,
        finalTestAccuracy: v.finalAccuracy,
      }),
    );
    await writeReport(runDir);
  }
  writeFileSync(
    join(dir, 'comparison.json'),
    JSON.stringify({
      sweep: 'noise',
      base: 'scenarios/privacy-sweep.yaml',
      description: 'noise multiplier against accuracy',
      createdAt: '2025-01-01T00:00:00.000Z',
      delta: 1e-5,
      variants: variants.map((v) => ({
        ...v,
        status: 'completed',
        error: null,
        runDir: v.name,
        overrides: {},
        finalMse: null,
        rounds: 2,
        miaAuc: null,
        wallMs: 1000,
        bytes: 1000,
      })),
    }),
  );
  await writeReport(dir);
  return id;
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `no Chromium at ${CHROMIUM}: the dashboard e2e test drives a real browser. Install it (apt-get install -y chromium) or set FEDSIM_CHROMIUM to a Chromium binary.`,
    );
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  runsDir = mkdtempSync(join(tmpdir(), 'fedsim-e2e-runs-'));
  const dashboardDir = await ensureDashboardBuilt();
  // Imported here rather than at the top, so a missing browser is reported before anything else.
  const { startApiServer } = await import('../../app/api/api-server.js');
  server = await startApiServer({ port: 0, runsDir, scenariosDir: 'scenarios', logLevel: 'silent', dashboardDir });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.registry.stopAll();
  await server?.close();
  if (runsDir) rmSync(runsDir, { recursive: true, force: true });
});

describe('the dashboard', () => {
  let runId: string;

  it('follows a run live in two browsers, from the list and by link, then links its report', async () => {
    const watcher = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const lister = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const pageErrors: string[] = [];
    for (const page of [watcher, lister]) page.on('pageerror', (error) => pageErrors.push(error.message));

    await lister.goto(`${server.url}/`);
    await lister.getByTestId('run-list').waitFor();
    // The start form offers the server's scenario files.
    await expect.poll(() => lister.getByTestId('scenario-select').locator('option').count()).toBeGreaterThan(0);

    const run = await startRun(tinyScenario('e2e-dashboard'));
    runId = run.id;
    expect(run).toMatchObject({ status: 'starting', live: true, roundsPlanned: ROUNDS });

    // One browser opens the run straight away and watches every change...
    await watcher.goto(`${server.url}/#/runs/${encodeURIComponent(runId)}`);
    await watcher.getByTestId('round-counter').waitFor();
    await recordProgress(watcher);
    // A round in progress shows its clients in the grid, coloured by state.
    await watcher.locator('[data-testid="client-grid"] [data-client-id]').first().waitFor({ timeout: 60_000 });
    await screenshot(watcher, 'run-live');

    // ...the other finds it in the run list (pushed by the 'runs' broadcast) and clicks into it.
    const row = lister.locator(`[data-testid="run-row"][data-run-id="${runId}"]`);
    await row.waitFor();
    await screenshot(lister, 'run-list-live');
    await row.getByTestId('run-link').click();
    await lister.waitForURL(`**/#/runs/${encodeURIComponent(runId)}`);
    await lister.getByTestId('round-counter').waitFor();

    for (const page of [watcher, lister]) {
      await page.locator('[data-testid="run-status"][data-status="completed"]').waitFor({ timeout: 120_000 });
      await expect.poll(() => page.getByTestId('round-counter').getAttribute('data-rounds-completed')).toBe(String(ROUNDS));
      await expect.poll(() => page.getByTestId('chart-quality').getAttribute('data-points')).toBe(String(ROUNDS));
      await expect.poll(() => page.getByTestId('round-counter').textContent()).toBe(`Round ${ROUNDS} / ${ROUNDS}`);
      await page.getByTestId('report-link').waitFor({ state: 'visible' });
    }
    await screenshot(watcher, 'run-completed');
    // Federated evaluation: the clients' view of the last evaluated round.
    expect(await watcher.getByTestId('run-facts').textContent()).toMatch(
      /Client accuracymean \d+\.\d+%, 10th percentile \d+\.\d+%, worst \d+\.\d+% \(round 4, 5 clients\)/,
    );

    // The counter and the chart moved up round by round rather than appearing whole at the end.
    const progress = await progressOf(watcher);
    expect(progress.rounds.at(-1)).toBe(ROUNDS);
    expect(progress.rounds, `round counter values seen: ${progress.rounds.join(', ')}`).toEqual([...progress.rounds].sort((a, b) => a - b));
    expect(new Set(progress.rounds).size, `round counter values seen: ${progress.rounds.join(', ')}`).toBeGreaterThan(1);
    expect(progress.points.at(-1)).toBe(ROUNDS);
    expect(new Set(progress.points.filter((p) => p > 0)).size, `chart points seen: ${progress.points.join(', ')}`).toBeGreaterThan(1);

    // The live page drew its charts with the report's chart code, on real canvases.
    expect(Math.min(...(await drawnCanvases(watcher, '[data-testid="chart-quality"] canvas')))).toBeGreaterThan(0);
    expect(await watcher.locator('[data-testid="charts"] > .chart').count()).toBeGreaterThanOrEqual(3);
    // The worker that trained the run, with its backend and speed.
    await expect.poll(() => watcher.locator('[data-testid="workers"] [data-worker-id]').count()).toBeGreaterThan(0);
    expect(await watcher.getByTestId('workers').textContent()).toMatch(/samples\/s/);
    expect(await watcher.getByTestId('log-tail').textContent()).not.toBe('');
    expect(await watcher.getByTestId('stop-button').isHidden()).toBe(true);
    expect(pageErrors).toEqual([]);
    await watcher.close();
    await lister.close();
  }, 240_000);

  it("serves the finished run's report with its charts drawn", async () => {
    const state = await api<RunState>(`/api/runs/${encodeURIComponent(runId)}`);
    expect(state.body).toMatchObject({ status: 'completed', roundsCompleted: ROUNDS, hasReport: true });

    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const response = await page.goto(`${server.url}/api/runs/${encodeURIComponent(runId)}/report`);
    expect(response?.status()).toBe(200);
    await page.locator('#charts canvas').first().waitFor();
    expect(await page.locator('#charts').textContent()).not.toMatch(/could not be drawn/);
    const painted = await drawnCanvases(page, '#charts canvas');
    expect(painted.length).toBeGreaterThanOrEqual(3);
    expect(Math.min(...painted)).toBeGreaterThan(0);
    // With no cursor on a static page, every legend shows the final values, never "--".
    const legends = await legendEntries(page);
    expect(legends.length).toBe(painted.length);
    for (const legend of legends) {
      expect(legend[0]).toEqual(['round', String(ROUNDS)]);
      for (const [label, value] of legend) expect(value, label).toMatch(/^\d/);
    }
    expect(legends[0]!.map(([label]) => label)).toEqual(['round', 'test accuracy', 'target']);
    expect(legends[0]![2]).toEqual(['target', '0.99']);
    // Hovering a round shows that round; leaving the chart shows the final values again.
    const over = (await page.locator('#charts .chart').first().locator('.u-over').boundingBox())!;
    await page.mouse.move(over.x + 2, over.y + over.height / 2);
    await expect.poll(async () => (await legendEntries(page))[0]![0]).toEqual(['round', '1']);
    await page.mouse.move(1, 1);
    await expect.poll(async () => (await legendEntries(page))[0]).toEqual(legends[0]);
    await screenshot(page, 'report');
    await page.close();
  }, 60_000);

  it('stops a live run from its page and sees it again, whole, after a reconnect', async () => {
    const run = await startRun(tinyScenario('e2e-dashboard-stop', 200));
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    await page.goto(`${server.url}/#/runs/${encodeURIComponent(run.id)}`);
    await expect.poll(() => page.getByTestId('round-counter').getAttribute('data-rounds-completed'), { timeout: 60_000 }).not.toBe('0');

    // Cut every socket's connection while rounds go on, as a network drop or server restart
    // would; the page must re-subscribe (the server forgot its rooms) and catch up on what it missed.
    for (const socket of server.io.sockets.sockets.values()) socket.conn.close();
    await page.locator('[data-testid="connection"][data-connected="false"]').waitFor();
    await page.locator('[data-testid="connection"][data-connected="true"]').waitFor({ timeout: 30_000 });
    const before = Number(await page.getByTestId('round-counter').getAttribute('data-rounds-completed'));
    await expect.poll(async () => Number(await page.getByTestId('round-counter').getAttribute('data-rounds-completed'))).toBeGreaterThan(before);

    await page.getByTestId('stop-button').click();
    // It ended without error, but cut short: the page says "stopped", not "completed".
    await page.locator('[data-testid="run-status"][data-status="stopped"]').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('run-status').textContent()).toBe('stopped');
    const state = (await api<RunState>(`/api/runs/${encodeURIComponent(run.id)}`)).body;
    expect(state.summary).toMatchObject({ stopReason: 'stopped' });
    expect(state.roundsCompleted).toBeLessThan(200);
    // The page shows what the server has: every completed round, none missed while disconnected.
    expect(await page.getByTestId('round-counter').getAttribute('data-rounds-completed')).toBe(String(state.roundsCompleted));
    expect(await page.getByTestId('chart-quality').getAttribute('data-points')).toBe(String(state.roundsCompleted));
    await screenshot(page, 'run-stopped');
    await page.close();
  }, 180_000);

  it('lists the comparison folders beside the runs, with each variant and the reports', async () => {
    const id = await writeComparisonFixture();
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    await page.goto(`${server.url}/`);
    const row = page.locator(`[data-testid="comparison-row"][data-comparison-id="${id}"]`);
    await row.waitFor();
    expect(
      await row
        .locator('[data-testid="comparison-variant"]')
        .evaluateAll((els) => els.map((el) => [el.getAttribute('data-variant'), el.getAttribute('data-status')])),
    ).toEqual([
      ['z-1', 'completed'],
      ['z-2', 'stopped'],
    ]);
    expect(await row.textContent()).toContain('noise multiplier against accuracy');
    // Its folder is not a run.
    expect(await page.locator(`[data-testid="run-row"][data-run-id="${id}"]`).count()).toBe(0);
    await screenshot(page, 'run-list-comparisons');

    const report = await page.request.get(`${server.url}${await row.getByTestId('comparison-report').getAttribute('href')}`);
    expect(report.status()).toBe(200);
    expect(await report.text()).toContain('Comparison: noise');
    const variantHref = await row.locator('[data-variant="z-1"] a').getAttribute('href');
    const variantReport = await page.request.get(`${server.url}${variantHref}`);
    expect(variantReport.status()).toBe(200);
    expect(await variantReport.text()).toContain('<h1>noise-z-1</h1>');
    await page.close();
  }, 60_000);
});

describe('the dashboard of a server with a token', () => {
  it('signs in from the printed link or the typed token, then lists runs live and opens reports by cookie', async () => {
    const { startApiServer } = await import('../../app/api/api-server.js');
    const token = 'e2e-token-0123456789abcdef';
    const locked = await startApiServer({ port: 0, runsDir, scenariosDir: 'scenarios', logLevel: 'silent', dashboardDir: await ensureDashboardBuilt(), token });
    try {
      const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
      const page = await context.newPage();
      await page.goto(`${locked.url}/`);
      await page.getByTestId('sign-in').waitFor();
      await page.getByTestId('token-input').fill('not-the-token');
      await page.getByTestId('sign-in').locator('button').click();
      await expect.poll(() => page.getByTestId('token-error').textContent()).toMatch(/not this server’s token/);
      await page.getByTestId('token-input').fill(token);
      await page.getByTestId('sign-in').locator('button').click();
      await page.getByTestId('run-list').waitFor();
      await expect.poll(() => page.getByTestId('connection').getAttribute('data-connected')).toBe('true');
      await screenshot(page, 'signed-in');
      // A link opened in a new tab carries the cookie, not the token.
      const comparisons = await page.request.get(`${locked.url}/api/comparisons`);
      expect(comparisons.status()).toBe(200);
      await context.close();

      // The printed link signs in at once and leaves no token in the address bar.
      const fresh = await browser.newPage();
      await fresh.goto(locked.dashboardUrl);
      await fresh.getByTestId('run-list').waitFor();
      expect(fresh.url()).toBe(`${locked.url}/#/`);
      await expect.poll(() => fresh.getByTestId('connection').getAttribute('data-connected')).toBe('true');
      await fresh.close();
    } finally {
      await locked.close();
    }
  }, 60_000);
});
