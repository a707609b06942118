/**
 * The protocol's claim tokens and grants: 128 random bits each, compared in constant time. They
 * are capabilities: whoever holds one may act for that client in that round, so they travel only
 * to one worker's own inbox (the task delivery, the claim's reply).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

export function newSecret(): string {
  return randomBytes(16).toString('hex');
}

export function sameSecret(expected: string, presented: string): boolean {
  return expected.length === presented.length && timingSafeEqual(Buffer.from(expected), Buffer.from(presented));
}
