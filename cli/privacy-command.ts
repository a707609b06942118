/**
 * `fedsim privacy`: the differential-privacy budget of a subsampled-Gaussian training run, from the
 * RDP accountant, without starting a run. Pure arithmetic: nothing here loads TensorFlow.js or NATS.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { calibrateNoiseMultiplier, computeEpsilon, DEFAULT_ORDERS, DEFAULT_ORDERS_SUMMARY, type EpsilonConversion } from '../shared/privacy/rdp-accountant.js';

const CONVERSIONS: EpsilonConversion[] = ['tight', 'classic'];
const TABLE_Q = [0.01, 0.1, 1];
const TABLE_NOISE = [0.5, 1, 2, 4];
const TABLE_STEPS = [1, 100, 1000, 10000];
const ORDERS_HELP = `\n${wrap(
  `Rényi orders: ε is the smallest over ${DEFAULT_ORDERS.length} orders α: ${DEFAULT_ORDERS_SUMMARY}. ` +
    'The α that gives it is printed as the best RDP order (`order` in JSON).',
  80,
)}`;

export function privacyCommand(): Command {
  // Subcommands made with .command() inherit this, unlike commands added to the program with
  // addCommand(), so set it here for the whole group.
  const privacy = new Command('privacy')
    .description('differential-privacy budget (ε, δ) of Poisson-subsampled Gaussian noise, by Rényi-DP accounting')
    .showHelpAfterError()
    .addHelpText('after', ORDERS_HELP);

  privacy
    .command('epsilon')
    .description('ε spent after T steps with sampling rate q and noise multiplier z')
    .addHelpText('after', ORDERS_HELP)
    .requiredOption('--q <q>', 'sampling rate: probability that an example (or client) takes part in a step', parseProbability)
    .requiredOption('--noise <z>', 'noise multiplier: noise standard deviation / clipping norm', parseNoise)
    .requiredOption('--steps <T>', 'number of noisy steps (or rounds)', parseSteps)
    .requiredOption('--delta <δ>', 'target δ', parseDelta)
    .addOption(conversionOption())
    .option('--json', 'print one JSON line (ε is null when infinite)')
    .action((opts: { q: number; noise: number; steps: number; delta: number; conversion: EpsilonConversion; json?: boolean }) => {
      const { epsilon, order, conversion } = computeEpsilon({
        q: opts.q,
        noiseMultiplier: opts.noise,
        steps: opts.steps,
        delta: opts.delta,
        conversion: opts.conversion,
      });
      if (opts.json) {
        printJson({ epsilon, order, conversion, q: opts.q, noise: opts.noise, steps: opts.steps, delta: opts.delta });
        return;
      }
      process.stdout.write(
        `ε = ${formatNumber(epsilon, 4)} at δ = ${formatDelta(opts.delta)} after ${opts.steps} steps with q = ${opts.q}, z = ${opts.noise}` +
          ` (${conversion} conversion, best RDP order ${order})\n`,
      );
    });

  privacy
    .command('calibrate')
    .description('smallest noise multiplier z that keeps ε within a budget after T steps')
    .addHelpText('after', ORDERS_HELP)
    .requiredOption('--q <q>', 'sampling rate: probability that an example (or client) takes part in a step', parseProbability)
    .requiredOption('--steps <T>', 'number of noisy steps (or rounds)', parseSteps)
    .requiredOption('--delta <δ>', 'target δ', parseDelta)
    .requiredOption('--epsilon <ε>', 'privacy budget ε to stay within', parseEpsilon)
    .addOption(conversionOption())
    .option('--json', 'print one JSON line')
    .action((opts: { q: number; steps: number; delta: number; epsilon: number; conversion: EpsilonConversion; json?: boolean }) => {
      const noise = calibrateNoiseMultiplier({ q: opts.q, steps: opts.steps, delta: opts.delta, targetEpsilon: opts.epsilon, conversion: opts.conversion });
      const achieved = computeEpsilon({ q: opts.q, noiseMultiplier: noise, steps: opts.steps, delta: opts.delta, conversion: opts.conversion });
      if (opts.json) {
        printJson({
          noise,
          epsilon: achieved.epsilon,
          order: achieved.order,
          conversion: achieved.conversion,
          targetEpsilon: opts.epsilon,
          q: opts.q,
          steps: opts.steps,
          delta: opts.delta,
        });
        return;
      }
      process.stdout.write(
        `z = ${formatNumber(noise, 5)} keeps ε ≤ ${opts.epsilon} at δ = ${formatDelta(opts.delta)} over ${opts.steps} steps with q = ${opts.q}` +
          ` (ε = ${formatNumber(achieved.epsilon, 6)}, ${achieved.conversion} conversion, best RDP order ${achieved.order})\n`,
      );
    });

  privacy
    .command('table')
    .description(`ε for q ∈ {${TABLE_Q.join(', ')}}, z ∈ {${TABLE_NOISE.join(', ')}}, T ∈ {${TABLE_STEPS.join(', ')}}, both conversions (Markdown)`)
    .addHelpText('after', ORDERS_HELP)
    .option('--delta <δ>', 'target δ', parseDelta, 1e-5)
    .option('--json', 'print the table as one JSON line instead of Markdown')
    .action((opts: { delta: number; json?: boolean }) => {
      const rows = TABLE_Q.flatMap((q) =>
        TABLE_NOISE.flatMap((noise) =>
          TABLE_STEPS.flatMap((steps) =>
            CONVERSIONS.map((conversion) => ({ q, noise, steps, ...computeEpsilon({ q, noiseMultiplier: noise, steps, delta: opts.delta, conversion }) })),
          ),
        ),
      );
      if (opts.json) {
        printJson({ delta: opts.delta, orders: DEFAULT_ORDERS, rows });
        return;
      }
      const smallestOrder = DEFAULT_ORDERS[0];
      const largestOrder = DEFAULT_ORDERS[DEFAULT_ORDERS.length - 1];
      // An optimum at the edge of the order grid means a wider grid could lower ε: flag those cells.
      const cell = (q: number, noise: number, steps: number, conversion: EpsilonConversion) => {
        const row = rows.find((r) => r.q === q && r.noise === noise && r.steps === steps && r.conversion === conversion)!;
        const atEdge = row.order === smallestOrder || row.order === largestOrder;
        return `${formatNumber(row.epsilon)}${atEdge ? ' †' : ''}`;
      };
      const sections = CONVERSIONS.map((conversion) => {
        const title =
          conversion === 'tight'
            ? `ε at δ = ${formatDelta(opts.delta)}, tight conversion (Balle et al. 2020, Thm 21)`
            : `ε at δ = ${formatDelta(opts.delta)}, classic conversion (Mironov 2017, Prop. 3)`;
        const header = ['q', 'z', ...TABLE_STEPS.map((t) => `T = ${t.toLocaleString('en-US')}`)];
        const body = TABLE_Q.flatMap((q) =>
          TABLE_NOISE.map((noise) => [String(q), String(noise), ...TABLE_STEPS.map((steps) => cell(q, noise, steps, conversion))]),
        );
        return `**${title}**\n\n${markdownTable(header, body)}`;
      });
      const anyAtEdge = rows.some((r) => r.order === smallestOrder || r.order === largestOrder);
      const note =
        `q: Poisson sampling rate per step; z: noise multiplier (noise std / clipping norm); T: steps. ` +
        `Rényi-DP of the sampled Gaussian mechanism (Mironov, Talwar & Zhang 2019), minimised over ${DEFAULT_ORDERS.length} orders α from ${smallestOrder} to ${largestOrder}.` +
        (anyAtEdge ? `\n\n† best at the edge of that range (α = ${smallestOrder} or ${largestOrder}): a wider range could give a smaller ε.` : '');
      process.stdout.write(`${sections.join('\n\n')}\n\n${note}\n`);
    });

  return privacy;
}

function conversionOption(): Option {
  return new Option('--conversion <kind>', 'RDP → (ε, δ) conversion: tight (Balle et al. 2020) or classic (Mironov 2017)')
    .choices(CONVERSIONS)
    .default('tight');
}

/** JSON has no Infinity; null says "unbounded" without breaking parsers. */
function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v))}\n`);
}

/** A few significant digits, whole numbers with separators once they are large, ∞ for no privacy. */
function formatNumber(x: number, significantDigits = 3): string {
  if (x === Infinity) return '∞';
  if (x >= 10 ** significantDigits) return Math.round(x).toLocaleString('en-US');
  return x.toPrecision(significantDigits);
}

/** 1e-5 rather than 0.00001: δ is read as a power of ten. */
function formatDelta(delta: number): string {
  return delta < 1e-3 ? delta.toExponential() : String(delta);
}

/** Commander wraps option descriptions but not added help text. */
function wrap(text: string, width: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  return [...lines, line].join('\n');
}

function markdownTable(header: string[], body: string[][]): string {
  // Every body row has one cell per header cell (the caller builds them so).
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((row) => row[c]!.length)));
  // Numbers right-aligned so magnitudes line up; q and z are labels too but also numbers.
  const line = (cells: string[]) => `| ${cells.map((cell, c) => cell.padStart(widths[c]!)).join(' | ')} |`;
  const rule = `|${widths.map((w) => `${'-'.repeat(w + 1)}:`).join('|')}|`;
  return [line(header), rule, ...body.map(line)].join('\n');
}

// Flag parsers: commander reports an InvalidArgumentError naming the flag and the value given.

function parseNumber(value: string, expected: string, ok: (n: number) => boolean): number {
  const n = value.trim() === '' ? NaN : Number(value);
  if (!ok(n)) throw new InvalidArgumentError(`expected ${expected}, got "${value}"`);
  return n;
}

function parseProbability(value: string): number {
  return parseNumber(value, 'a probability in [0, 1]', (n) => n >= 0 && n <= 1);
}

function parseNoise(value: string): number {
  return parseNumber(value, 'a noise multiplier ≥ 0', (n) => n >= 0 && Number.isFinite(n));
}

function parseSteps(value: string): number {
  return parseNumber(value, 'a whole number of steps ≥ 0', (n) => Number.isSafeInteger(n) && n >= 0);
}

function parseDelta(value: string): number {
  return parseNumber(value, 'δ in (0, 1)', (n) => n > 0 && n < 1);
}

function parseEpsilon(value: string): number {
  return parseNumber(value, 'ε > 0', (n) => n > 0 && Number.isFinite(n));
}
