import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  randomBytes,
  timingSafeEqual,
} from "node:crypto";

/** Recognisable prefixes, so secret scanners can find leaked credentials. */
export const TOKEN_PREFIX = "agx_pat_";
export const AGENT_KEY_PREFIX = "agx_key_";

export function newToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString("base64url");
}

export function newAgentKey(): string {
  return AGENT_KEY_PREFIX + randomBytes(32).toString("base64url");
}

/**
 * The internal key of an agent is derived, not stored: every pod that registers
 * gets the same key, and the database holds only its hash.
 */
export function deriveAgentKey(secretKey: Buffer, keyId: string): string {
  return (
    AGENT_KEY_PREFIX + createHmac("sha256", secretKey).update(`agent-key:v1:${keyId}`).digest("base64url")
  );
}

/** sha256 is enough: the credentials are 256-bit random, so a hash cannot be reversed. */
export function hashCredential(credential: string): Buffer {
  return createHash("sha256").update(credential, "utf8").digest();
}

/** Characters of a secret's random part kept for listings: never enough to help guess the rest. */
export const DISPLAY_CHARS = 4;

/** Webhook signing secrets the server generates (GitHub); never valid as API credentials. */
export const WEBHOOK_SECRET_PREFIX = "agx_whsec_";

export function newWebhookSecret(): string {
  return WEBHOOK_SECRET_PREFIX + randomBytes(32).toString("base64url");
}

const SCHEMES = [TOKEN_PREFIX, AGENT_KEY_PREFIX, WEBHOOK_SECRET_PREFIX];

/**
 * What is stored to tell credentials apart in listings: the fixed scheme
 * prefix (`agx_pat_`, `agx_key_`, `agx_whsec_`) plus at most 4 characters of
 * the secret, or 4 characters of an operator- or caller-chosen value.
 */
export function displayPrefix(credential: string): string {
  const scheme = SCHEMES.find((p) => credential.startsWith(p)) ?? "";
  return credential.slice(0, scheme.length + DISPLAY_CHARS);
}

function sealKey(secretKey: Buffer): Buffer {
  return createHmac("sha256", secretKey).update("webhook-secret-seal:v1").digest();
}

/**
 * GitHub and Slack sign webhooks with a shared secret, so verifying needs the
 * secret itself: it is sealed with AES-256-GCM under a key derived from the
 * server secret, bound to its key row (`aad`), so a database copy without
 * AGENTEX_SECRET_KEY yields nothing usable and a sealed value cannot be moved
 * to another row. Layout: iv (12) ‖ tag (16) ‖ ciphertext.
 */
export function sealSecret(secretKey: Buffer, secret: string, aad: string): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", sealKey(secretKey), iv);
  cipher.setAAD(Buffer.from(aad, "utf8"));
  const body = Buffer.concat([cipher.update(secret, "utf8"), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

/** The sealed secret, or null when it does not open (another server secret, another row, tampering). */
export function openSecret(secretKey: Buffer, sealed: Uint8Array, aad: string): string | null {
  const buf = Buffer.from(sealed);
  if (buf.length < 28) return null;
  try {
    const decipher = createDecipheriv("aes-256-gcm", sealKey(secretKey), buf.subarray(0, 12));
    decipher.setAAD(Buffer.from(aad, "utf8"));
    decipher.setAuthTag(buf.subarray(12, 28));
    return Buffer.concat([decipher.update(buf.subarray(28)), decipher.final()]).toString("utf8");
  } catch {
    return null;
  }
}

/**
 * The lookup hash of a signing secret: keyed with the server secret, because a
 * caller-chosen secret may be weak enough to brute-force from a plain sha256.
 */
export function keyedHash(secretKey: Buffer, secret: string): Buffer {
  return createHmac("sha256", secretKey).update(`webhook-secret-hash:v1:${secret}`).digest();
}

export function sameHash(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
