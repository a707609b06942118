/**
 * What a partition looks like: client sizes and, for classification, how skewed the clients'
 * label mixes are. Written to the run folder (partition.json) and printed at the start of a run,
 * so that "non-IID" in a result is a measured number, not a name.
 */
import type { Dataset } from '../data/dataset.js';

export interface PartitionSummary {
  kind: string;
  clients: number;
  /** Training samples assigned to some client. */
  totalSamples: number;
  /** Training samples assigned to no client (the shards remainder); 0 for the other kinds. */
  unassigned: number;
  sizes: { min: number; max: number; mean: number; median: number; std: number };
  /** Classification only. */
  labels?: {
    classesPerClient: { min: number; max: number; mean: number };
    /**
     * Mean over non-empty clients of the total-variation distance between the client's label
     * distribution and the federation's (all assigned samples): ½ Σ_c |p_client(c) − p_all(c)|.
     * 0: every client has the global mix (IID); 1: clients share no class with the mix at all.
     * Chosen over Jensen–Shannon because it reads directly as "the share of a client's labels
     * that would have to change".
     */
    meanTotalVariation: number;
  };
  /** `name`: a natural client's own (Shakespeare's "hamlet/Ophelia"). */
  perClient: { id: number; name?: string; size: number; labelHistogram?: number[] }[];
}

export function summarizePartition(dataset: Dataset, parts: number[][], kind: string): PartitionSummary {
  const sizes = parts.map((p) => p.length);
  const totalSamples = sizes.reduce((s, n) => s + n, 0);
  const summary: PartitionSummary = {
    kind,
    clients: parts.length,
    totalSamples,
    unassigned: dataset.train.count - totalSamples,
    sizes: describeSizes(sizes),
    perClient: parts.map((p, id) => ({ id, ...(dataset.clientNames?.[id] !== undefined ? { name: dataset.clientNames[id] } : {}), size: p.length })),
  };
  if (dataset.task !== 'classification' || parts.length === 0) return summary;

  const k = dataset.numClasses;
  const histograms = parts.map((part) => {
    const h = new Array<number>(k).fill(0);
    for (const i of part) h[dataset.train.labels[i]!]! += 1;
    return h;
  });
  const global = new Array<number>(k).fill(0);
  for (const h of histograms) h.forEach((n, c) => (global[c]! += n));

  const classCounts = histograms.map((h) => h.filter((n) => n > 0).length);
  const distances = histograms.flatMap((h, id) => {
    if (sizes[id] === 0 || totalSamples === 0) return [];
    let sum = 0;
    for (let c = 0; c < k; c++) sum += Math.abs(h[c]! / sizes[id]! - global[c]! / totalSamples);
    return [sum / 2];
  });
  summary.labels = {
    // reduce, not Math.min(...array): spreading hits the engine's argument limit at ~10⁵ clients.
    classesPerClient: { min: classCounts.reduce((a, b) => Math.min(a, b)), max: classCounts.reduce((a, b) => Math.max(a, b)), mean: mean(classCounts) },
    meanTotalVariation: distances.length > 0 ? mean(distances) : 0,
  };
  summary.perClient.forEach((entry, id) => (entry.labelHistogram = histograms[id]));
  return summary;
}

export function formatPartitionSummary(s: PartitionSummary): string {
  const left = s.unassigned > 0 ? ` (${s.unassigned} left out)` : '';
  const z = s.sizes;
  const lines = [
    `partition ${s.kind}: ${s.clients} clients, ${s.totalSamples} training samples${left}`,
    `  samples per client: min ${z.min} · median ${round(z.median)} · mean ${round(z.mean)} · max ${z.max} · std ${round(z.std)}`,
  ];
  if (s.labels) {
    const c = s.labels.classesPerClient;
    lines.push(
      `  classes per client: min ${c.min} · mean ${round(c.mean)} · max ${c.max}; ` +
        `label skew ${s.labels.meanTotalVariation.toFixed(3)} (mean total-variation distance from the global label mix: 0 = IID, 1 = disjoint)`,
    );
  }
  return lines.join('\n');
}

function describeSizes(sizes: number[]): PartitionSummary['sizes'] {
  if (sizes.length === 0) return { min: 0, max: 0, mean: 0, median: 0, std: 0 };
  const sorted = [...sizes].sort((a, b) => a - b);
  const m = mean(sizes);
  const half = sorted.length >> 1;
  return {
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
    mean: m,
    median: sorted.length % 2 === 1 ? sorted[half]! : (sorted[half - 1]! + sorted[half]!) / 2,
    std: Math.sqrt(mean(sizes.map((n) => (n - m) ** 2))),
  };
}

function mean(values: number[]): number {
  return values.reduce((s, v) => s + v, 0) / values.length;
}

function round(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(1);
}
