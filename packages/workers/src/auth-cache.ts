import type { DB, Kysely } from "@agentex/db";
import { authenticate, hashCredential, type AuthInvalidation, type Caller } from "@agentex/core";
import type { Worker } from "./worker.ts";

/** The parts of `Database` (packages/db) the cache needs. */
export interface AuthCacheStore {
  db: Kysely<DB>;
  subscribe(channel: string, handler: (payload: string) => void): Promise<() => Promise<void>>;
  notify(channel: string, payload: string): Promise<void>;
  listenerEpoch(): number | null;
}

export const AUTH_CHANNEL = "agentex_auth";

type Scope = "credential" | "principal" | "agent" | "all";

interface Entry {
  principal: Caller;
  /** Date.now() after which the entry is read again from the database. */
  until: number;
  /** The listener epoch the entry was read under: a reconnect (messages possibly missed) voids it. */
  epoch: number;
}

export interface AuthCacheOptions {
  /** Entries kept (least recently used dropped first). */
  max?: number;
  /** How long an entry is trusted without asking the database, in ms. */
  ttlMs?: number;
  onError?: (err: unknown) => void;
}

/**
 * Bounded, short-lived, in-process cache of authenticated principals, keyed by
 * the credential's hash (no plaintext credential is kept). Only successful
 * authentications are cached. An entry is trusted only while the LISTEN
 * connection that carries invalidations from other replicas is up and has not
 * reconnected since the entry was read; a read that raced an invalidation is
 * not stored. A token's own expiry (`expires_at`) is checked on every hit.
 *
 * A per-replica worker (no lease, no tick): every replica keeps its own
 * cache, so every replica runs its own invalidation listener, from start to
 * stop.
 */
export class AuthCache implements AuthInvalidation, Worker {
  readonly name = "auth-cache";
  private readonly entries = new Map<string, Entry>();
  private readonly max: number;
  private readonly ttlMs: number;
  /** Bumped by every invalidation: a database read that started before one is not cached. */
  private generation = 0;
  private unsubscribe: (() => Promise<void>) | null = null;

  constructor(
    private readonly store: AuthCacheStore,
    private readonly opts: AuthCacheOptions = {},
  ) {
    this.max = opts.max ?? 10_000;
    this.ttlMs = opts.ttlMs ?? 5_000;
  }

  /** Starts listening for other replicas' invalidations. Until it has, nothing is cached. */
  async start(): Promise<void> {
    if (this.unsubscribe || this.max <= 0 || this.ttlMs <= 0) return;
    try {
      this.unsubscribe = await this.store.subscribe(AUTH_CHANNEL, (payload) => this.onMessage(payload));
    } catch (err) {
      // The listener retries in the background; entries are trusted only once it is up.
      this.opts.onError?.(err);
    }
  }

  async stop(): Promise<void> {
    const off = this.unsubscribe;
    this.unsubscribe = null;
    this.entries.clear();
    await off?.();
  }

  get size(): number {
    return this.entries.size;
  }

  async authenticate(credential: string): Promise<Caller | null> {
    if (credential.length > 256) return null;
    const epoch = this.unsubscribe ? this.store.listenerEpoch() : null;
    if (epoch === null) return authenticate(this.store.db, credential);
    const key = hashCredential(credential).toString("base64");
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit) {
      const expires = hit.principal.expires_at;
      if (hit.epoch === epoch && hit.until > now && !(expires && expires.getTime() <= now)) {
        // Most recently used goes to the end (Map keeps insertion order).
        this.entries.delete(key);
        this.entries.set(key, hit);
        return hit.principal;
      }
      this.entries.delete(key);
    }
    const generation = this.generation;
    const principal = await authenticate(this.store.db, credential);
    if (principal && generation === this.generation && this.store.listenerEpoch() === epoch) {
      this.entries.set(key, { principal: Object.freeze(principal), until: now + this.ttlMs, epoch });
      if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
    }
    return principal;
  }

  credential(id: string): Promise<void> {
    return this.invalidate("credential", id);
  }

  principal(id: string): Promise<void> {
    return this.invalidate("principal", id);
  }

  agent(id: string): Promise<void> {
    return this.invalidate("agent", id);
  }

  /** Drops everything here and on every replica. */
  all(): Promise<void> {
    return this.invalidate("all", "");
  }

  /** Applies here at once, then tells the other replicas. A lost NOTIFY leaves them at most `ttlMs` behind. */
  private async invalidate(scope: Scope, id: string): Promise<void> {
    this.evict(scope, id);
    try {
      await this.store.notify(AUTH_CHANNEL, JSON.stringify({ s: scope, id }));
    } catch (err) {
      this.opts.onError?.(err);
    }
  }

  private onMessage(payload: string) {
    let message: { s?: unknown; id?: unknown };
    try {
      message = JSON.parse(payload) as typeof message;
    } catch {
      message = { s: "all" };
    }
    const scope = (["credential", "principal", "agent"] as const).find((s) => s === message.s) ?? "all";
    this.evict(scope, typeof message.id === "string" ? message.id : "");
  }

  private evict(scope: Scope, id: string) {
    this.generation++;
    if (scope === "all") {
      this.entries.clear();
      return;
    }
    for (const [key, { principal }] of this.entries) {
      const match =
        scope === "credential"
          ? principal.credential_id === id
          : scope === "principal"
            ? principal.id === id
            : principal.agent_id === id;
      if (match) this.entries.delete(key);
    }
  }
}
