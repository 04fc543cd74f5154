import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Recognisable prefixes, so secret scanners can find leaked credentials. */
export const TOKEN_PREFIX = 'agx_pat_';
export const AGENT_KEY_PREFIX = 'agx_key_';

export function newToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

export function newAgentKey(): string {
  return AGENT_KEY_PREFIX + randomBytes(32).toString('base64url');
}

/**
 * The internal key of an agent is derived, not stored: every pod that registers
 * gets the same key, and the database holds only its hash.
 */
export function deriveAgentKey(secretKey: Buffer, keyId: string): string {
  return AGENT_KEY_PREFIX + createHmac('sha256', secretKey).update(`agent-key:v1:${keyId}`).digest('base64url');
}

/** sha256 is enough: the credentials are 256-bit random, so a hash cannot be reversed. */
export function hashCredential(credential: string): Buffer {
  return createHash('sha256').update(credential, 'utf8').digest();
}

/** Characters of a secret's random part kept for listings: never enough to help guess the rest. */
export const DISPLAY_CHARS = 4;

/**
 * What is stored to tell credentials apart in listings: the fixed scheme
 * prefix (`agx_pat_`, `agx_key_`) plus at most 4 characters of the secret, or
 * 4 characters of an operator-chosen token without a scheme.
 */
export function displayPrefix(credential: string): string {
  const scheme = [TOKEN_PREFIX, AGENT_KEY_PREFIX].find((p) => credential.startsWith(p)) ?? '';
  return credential.slice(0, scheme.length + DISPLAY_CHARS);
}

export function sameHash(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
