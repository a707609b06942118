/**
 * NATS users generated for one run on the private nats-server fedsim starts: the coordinator and
 * one user per worker, each with a fresh password and the permissions of shared/bus/nats-permissions.ts.
 * A laptop run so gets the isolation of a cluster run with `fedsim deploy creds`: no anonymous
 * client connects, no worker publishes control messages, and no worker reads another's replies.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { authorizationUserEntry, coordinatorPermissions, workerPermissions, type SubjectPermissions } from './nats-permissions.js';

export interface RunUser {
  user: string;
  password: string;
  permissions: SubjectPermissions;
}

export interface RunUsers {
  coordinator: RunUser;
  workers: RunUser[];
}

export function workerUserName(index: number): string {
  return `worker-${index}`;
}

export function generateRunUsers(run: string, workers: number): RunUsers {
  return {
    coordinator: { user: 'coordinator', password: generatePassword(), permissions: coordinatorPermissions(run) },
    workers: Array.from({ length: workers }, (_, i) => {
      const user = workerUserName(i);
      return { user, password: generatePassword(), permissions: workerPermissions(run, user) };
    }),
  };
}

/** The nats-server `authorization` block with these users (literal passwords: the file is private to this run). */
export function authorizationConfig(users: readonly RunUser[]): string {
  const entries = users.map((u) => authorizationUserEntry(JSON.stringify(u.user), JSON.stringify(u.password), u.permissions));
  return ['authorization {', '  users: [', ...entries, '  ]', '}', ''].join('\n');
}

/** What a process needs in its environment to connect as this user (see natsSecurityFromEnv). */
export function natsLoginEnv(user: RunUser): { NATS_USER: string; NATS_PASSWORD: string } {
  return { NATS_USER: user.user, NATS_PASSWORD: user.password };
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * 40 alphanumerics (≈238 bits), first a letter: nats-server re-parses an environment value as a
 * config value, so a password that began with a digit or held punctuation could turn into a
 * number or a syntax error.
 */
export function generatePassword(length = 40): string {
  let out = ALPHABET[randomInt(0, 52)]!;
  // Rejection sampling keeps every character uniform (256 is not a multiple of 62).
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += ALPHABET[byte % 62]!;
    }
  }
  return out;
}
