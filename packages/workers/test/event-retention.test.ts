import { TEST_STORE } from "@agentex/db/testing";
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { EventRetention, Workers } from "@agentex/workers";
import { uniqueName, useFixture } from "../../api/test/helpers.ts";
import { until } from "./until.ts";

describe(`event retention (${TEST_STORE})`, () => {
  const f = useFixture();
  const running: Workers[] = [];
  afterEach(async () => {
    for (const w of running.splice(0)) await w.stop();
  });

  /** A replica's runner with only the retention purge on it. */
  async function replica(retentionMs = 60_000) {
    const worker = new EventRetention({ db: f.db.db, retentionMs, intervalMs: 50, leaseTtlMs: 3_000 });
    const workers = new Workers({
      db: f.db.db,
      subscribe: (c, h) => f.db.subscribe(c, h),
      notify: (c, p) => f.db.notify(c, p),
    }).add(worker);
    running.push(workers);
    await workers.start();
    return { worker, workers };
  }

  async function someEvents(n: number): Promise<number[]> {
    const { principal } = await f.principal();
    const c = f.as(principal);
    for (let i = 0; i < n; i++) await c.agents.registerBuild({ name: uniqueName(), description: "" });
    const rows = await f.db.db.selectFrom("events").select("id").orderBy("id").execute();
    return rows.map((r) => Number(r.id));
  }

  const age = (ids: number[]) =>
    sql`update events set created_at = now() - interval '2 minutes' where id = any(${ids}::bigint[])`.execute(
      f.db.db,
    );

  it("purges events older than the retention, on the one replica that holds its lease", async () => {
    const ids = await someEvents(5);
    const a = await replica();
    const b = await replica();
    expect(a.workers.holds("event-retention")).toBe(true);
    expect(b.workers.holds("event-retention")).toBe(false);
    await age(ids.slice(0, 3));
    await until(() => a.worker.purged === 3);
    const left = await f.db.db.selectFrom("events").select("id").orderBy("id").execute();
    expect(left.map((r) => Number(r.id))).toEqual(ids.slice(3));
    // The other replica never ran it, however many ticks went by on the holder.
    await new Promise((r) => setTimeout(r, 200));
    expect(b.worker.purged).toBe(0);
    expect(b.workers.stats()[0]).toMatchObject({ ticks: 0, failures: 0, lease: { held: false } });
    expect(a.workers.stats()[0]!.ticks).toBeGreaterThan(1);
  });

  it("a holder that stops hands the purge to a waiting replica at once, not after the lease's ttl", async () => {
    const a = await replica();
    const b = await replica();
    expect(a.workers.holds("event-retention")).toBe(true);
    const stopped = Date.now();
    await a.workers.stop();
    const ms = await until(() => b.workers.holds("event-retention"));
    // ttl 3 s, renewal attempts every 1 s: only the release notice explains a handover this quick.
    expect(ms).toBeLessThan(500);
    const ids = await someEvents(2);
    await age(ids.slice(-2));
    await until(() => b.worker.purged === 2);
    expect(a.worker.purged).toBe(0);
    expect(Date.now() - stopped).toBeLessThan(3_000);
  });
});
