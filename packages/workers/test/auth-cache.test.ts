import { connectPostgres } from "@agentex/db";
import { TEST_STORE } from "@agentex/db/testing";
import { describe, expect, it } from "vitest";
import { AuthCache } from "../src/auth-cache.ts";
import { markTokenRevoked } from "@agentex/core";
import { useFixture } from "../../api/test/helpers.ts";

const f = useFixture();

async function until(check: () => Promise<boolean>, timeoutMs = 2_000): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return Date.now() - started;
}

describe(`AuthCache (${TEST_STORE})`, () => {
  it("serves a repeat authentication from memory until it is invalidated, then asks the database again", async () => {
    const cache = new AuthCache(f.db);
    await cache.start();
    try {
      const { principal, token } = await f.principal();
      expect((await cache.authenticate(token))?.id).toBe(principal.id);
      // Revoked behind the cache's back (no invalidation): the cached entry still answers...
      await markTokenRevoked(f.db.db, principal.credential_id!);
      expect((await cache.authenticate(token))?.id).toBe(principal.id);
      // ...until the revoking code says so, which every revoke path does.
      await cache.credential(principal.credential_id!);
      expect(await cache.authenticate(token)).toBeNull();
      // Failures are never cached: a bad token stays bad, and costs a lookup each time.
      expect(await cache.authenticate("agx_pat_nope")).toBeNull();
      expect(cache.size).toBe(0);
    } finally {
      await cache.stop();
    }
  });

  it("invalidates by principal and by agent, and keeps at most `max` entries", async () => {
    const cache = new AuthCache(f.db, { max: 2 });
    await cache.start();
    try {
      const a = await f.principal();
      const b = await f.principal();
      const c = await f.principal();
      for (const p of [a, b, c]) await cache.authenticate(p.token);
      expect(cache.size).toBe(2);
      await cache.principal(c.principal.id);
      expect(cache.size).toBe(1);
      await markTokenRevoked(f.db.db, b.principal.credential_id!);
      await cache.principal(b.principal.id);
      expect(await cache.authenticate(b.token)).toBeNull();
    } finally {
      await cache.stop();
    }
  });

  it("entries expire after ttlMs", async () => {
    const cache = new AuthCache(f.db, { ttlMs: 50 });
    await cache.start();
    try {
      const { principal, token } = await f.principal();
      await cache.authenticate(token);
      await markTokenRevoked(f.db.db, principal.credential_id!);
      expect(await cache.authenticate(token)).not.toBeNull();
      await new Promise((r) => setTimeout(r, 80));
      expect(await cache.authenticate(token)).toBeNull();
    } finally {
      await cache.stop();
    }
  });

  it("one cache's invalidation reaches another cache on the same store (another replica)", async () => {
    // On Postgres the second cache sits on its own pool and LISTEN connection, as another process would.
    const otherDb = TEST_STORE === "postgres" ? connectPostgres({ url: f.db.url! }) : null;
    const here = new AuthCache(f.db);
    const there = new AuthCache(otherDb ?? f.db);
    await here.start();
    await there.start();
    try {
      const { principal, token } = await f.principal();
      expect(await there.authenticate(token)).not.toBeNull();
      await markTokenRevoked(f.db.db, principal.credential_id!);
      expect(await there.authenticate(token)).not.toBeNull(); // cached there
      await here.credential(principal.credential_id!);
      const ms = await until(async () => (await there.authenticate(token)) === null);
      expect(ms).toBeLessThan(1_000);
    } finally {
      await here.stop();
      await there.stop();
      await otherDb?.close();
    }
  });
});
