import { acquireLease, releaseLease } from "@agentex/core";
import type { DB, Kysely } from "@agentex/db";

/** NOTIFY channel on which a replica announces a lease it released (payload: the lease name). */
export const LEASE_CHANNEL = "agentex_leases";

export interface LeaseKeeperOptions {
  db: Kysely<DB>;
  name: string;
  ttlMs: number;
  owner: string;
  holder: string;
  notify?: ((channel: string, payload: string) => Promise<void>) | undefined;
  /** This replica just took the lease (it did not hold it before). */
  onTaken(): void;
  /** This replica held the lease and no longer does. */
  onLost(why: string): void;
  onError(err: unknown, what: string): void;
}

/**
 * Keeps one named lease (queries/leases.ts) for a replica: attempts it every
 * third of its ttl, which takes it when free and renews it while held, and
 * releases it on request, announcing that on `LEASE_CHANNEL`.
 *
 * The replica counts the lease as its own until `ttlMs` after it sent the
 * statement that took or renewed it, which is no later than the expiry the
 * database wrote: it stops counting on it before another replica can take it.
 */
export class LeaseKeeper {
  /** Date.now() until which this replica counts the lease as its own (0: not held). */
  private heldUntil = 0;
  private timer: NodeJS.Timeout | null = null;
  private attempting: Promise<void> | null = null;
  private again = false;
  private halted = false;

  constructor(private readonly opts: LeaseKeeperOptions) {}

  get name(): string {
    return this.opts.name;
  }

  held(): boolean {
    return Date.now() < this.heldUntil;
  }

  /** A first attempt (awaited), then one every third of the ttl. */
  async start(): Promise<void> {
    await this.attempt();
    if (this.halted) return;
    this.timer = setInterval(() => void this.attempt(), Math.max(10, this.opts.ttlMs / 3));
    this.timer.unref();
  }

  /** No more attempts; a held lease stays held in the database until released or expired. */
  halt(): void {
    this.halted = true;
    if (this.timer) clearInterval(this.timer);
  }

  /** The attempt in flight, if any, has ended. */
  async settled(): Promise<void> {
    await this.attempting;
  }

  /** Takes or renews the lease (single-flight; a call made meanwhile runs once more after it). */
  attempt(): Promise<void> {
    if (this.attempting) {
      this.again = true;
      return this.attempting;
    }
    this.attempting = (async () => {
      do {
        this.again = false;
        if (this.halted) return;
        await this.once();
      } while (this.again);
    })().finally(() => (this.attempting = null));
    return this.attempting;
  }

  private async once() {
    const sent = Date.now();
    const had = this.held();
    try {
      const row = await acquireLease(this.opts.db, {
        name: this.opts.name,
        owner: this.opts.owner,
        holder: this.opts.holder,
        ttlMs: this.opts.ttlMs,
      });
      if (row) {
        this.heldUntil = sent + this.opts.ttlMs;
        if (!had) this.opts.onTaken();
      } else {
        this.heldUntil = 0;
        if (had) this.opts.onLost("another replica holds it");
      }
    } catch (err) {
      this.opts.onError(err, "could not take or renew its lease");
      if (had && !this.held()) this.opts.onLost("it expired while the database was unreachable");
    }
  }

  /** Gives the lease up (if this replica still holds it in the database) and tells the other replicas. */
  async release(): Promise<void> {
    this.halt();
    this.heldUntil = 0;
    try {
      if (!(await releaseLease(this.opts.db, this.opts.name, this.opts.owner))) return;
      await this.opts.notify?.(LEASE_CHANNEL, this.opts.name);
    } catch (err) {
      this.opts.onError(err, "could not release its lease");
    }
  }
}
