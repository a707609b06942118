/**
 * What a person watching the terminal sees: a progress bar with round, accuracy and ETA when
 * stderr is a terminal, one line per round otherwise (CI logs, pipes).
 */
import { SingleBar } from 'cli-progress';
import type { ClientEvent, RoundMetrics } from '../../coordinator/coordinator.js';
import { etaSeconds, formatEta, RoundTally } from './round-tally.js';

export interface Progress {
  round(metrics: RoundMetrics): void;
  /** Inside a round: a client was selected, trained, dropped… */
  client(event: ClientEvent): void;
  stop(): void;
}

/** The bar redraws at most this often for client events (a round can have thousands). */
const CLIENT_REDRAW_MS = 250;

export function createProgress(totalRounds: number, enabled: boolean, label?: string): Progress {
  if (!enabled) return { round: () => {}, client: () => {}, stop: () => {} };
  const prefix = label ? `${label} ` : '';
  if (!process.stderr.isTTY) {
    return {
      round: (m) =>
        process.stderr.write(
          `${prefix}round ${m.round}/${totalRounds}  ${quality(m)}  ${m.completed}/${m.selected} clients  ${(m.wallMs / 1000).toFixed(1)} s\n`,
        ),
      client: () => {},
      stop: () => {},
    };
  }
  const bar = new SingleBar({
    format: `${prefix.replace(/[{}]/g, '')}round {value}/{total} [{bar}] {percentage}% | {quality} | {inRound} | ETA {etaText}`,
    stream: process.stderr,
    hideCursor: true,
    etaBuffer: 5,
  });
  const tally = new RoundTally();
  const started = performance.now();
  let roundsDone = 0;
  let lastDrawn = 0;
  const eta = () => formatEta(etaSeconds(roundsDone, totalRounds, performance.now() - started));
  bar.start(totalRounds, 0, { quality: 'waiting for round 1', inRound: '', etaText: eta() });
  return {
    round: (m) => {
      roundsDone = m.round;
      bar.update(m.round, { quality: quality(m), inRound: tally.text(), etaText: eta() });
    },
    client: (event) => {
      tally.event(event);
      // Selection comes as a burst: drawing in the middle of it would show a partial cohort.
      if (event.state === 'selected') return;
      const now = performance.now();
      if (now - lastDrawn < CLIENT_REDRAW_MS) return;
      lastDrawn = now;
      bar.update({ inRound: tally.text(), etaText: eta() });
    },
    stop: () => bar.stop(),
  };
}

function quality(m: RoundMetrics): string {
  const epsilon = m.privacy ? `  ε ${m.privacy.epsilon.toFixed(3)}` : '';
  if (m.testAccuracy !== null) return `test accuracy ${(m.testAccuracy * 100).toFixed(2)}%${epsilon}`;
  if (m.testMse !== null) return `test MSE ${m.testMse.toFixed(3)}${epsilon}`;
  return (m.trainLoss !== null ? `train loss ${m.trainLoss.toFixed(4)}` : 'no updates') + epsilon;
}
