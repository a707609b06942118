/**
 * What a person watching the terminal sees: a progress bar with round, accuracy and ETA when
 * stderr is a terminal, one line per round otherwise (CI logs, pipes).
 */
import { SingleBar } from 'cli-progress';
import type { RoundMetrics } from '../../coordinator/coordinator.js';

export interface Progress {
  round(metrics: RoundMetrics): void;
  stop(): void;
}

export function createProgress(totalRounds: number, enabled: boolean, label?: string): Progress {
  if (!enabled) return { round: () => {}, stop: () => {} };
  const prefix = label ? `${label} ` : '';
  if (!process.stderr.isTTY) {
    return {
      round: (m) =>
        process.stderr.write(
          `${prefix}round ${m.round}/${totalRounds}  ${quality(m)}  ${m.completed}/${m.selected} clients  ${(m.wallMs / 1000).toFixed(1)} s\n`,
        ),
      stop: () => {},
    };
  }
  const bar = new SingleBar({
    format: `${prefix.replace(/[{}]/g, '')}round {value}/{total} [{bar}] {percentage}% | {quality} | ETA {eta_formatted}`,
    stream: process.stderr,
    hideCursor: true,
    etaBuffer: 5,
  });
  bar.start(totalRounds, 0, { quality: 'waiting for round 1' });
  return {
    round: (m) => bar.update(m.round, { quality: quality(m) }),
    stop: () => bar.stop(),
  };
}

function quality(m: RoundMetrics): string {
  const epsilon = m.privacy ? `  ε ${m.privacy.epsilon.toFixed(3)}` : '';
  if (m.testAccuracy !== null) return `test accuracy ${(m.testAccuracy * 100).toFixed(2)}%${epsilon}`;
  if (m.testMse !== null) return `test MSE ${m.testMse.toFixed(3)}${epsilon}`;
  return (m.trainLoss !== null ? `train loss ${m.trainLoss.toFixed(4)}` : 'no updates') + epsilon;
}
