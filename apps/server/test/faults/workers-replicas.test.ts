/**
 * Background work across two real server processes on one real Postgres.
 * The health checks are shared out by row leases: two replicas never probe
 * one target at once, and a killed prober's targets are taken over within one
 * interval. The outbox purge is a singleton under a named lease: when its
 * holder is SIGKILLed it moves to the other replica once the lease expires,
 * and when its holder is SIGTERMed it moves at once (the stopping replica
 * releases what it holds, ends its event streams with a hint to reconnect,
 * and exits 0).
 */
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, sleep, startServer, type ServerProcess } from "../process.ts";
import { HealthTarget } from "@agentex/testing";
import { openSse } from "../sse.ts";
import { skipWithoutPostgres, useScratchDatabase } from "./postgres.ts";
import { SHUTDOWN_TIMEOUT_MS, ok, pollUntil, replicaEnv } from "./replicas.ts";

const SKIP = skipWithoutPostgres("workers-replicas", "run the multi-replica worker tests on real Postgres");

const INTERVAL = 600;
const TIMEOUT = 300;
const LEASE_MARGIN = Math.min(1_000, Math.max(100, Math.floor(INTERVAL / 4)));
// A 5 s retention purges every second (a tenth of it, at least 1 s) under a
// lease of three purges (at least 3 s), attempted every third of that.
const RETENTION = 5_000;
const PURGE_TTL = 3_000;
const PURGE_LEASE = "event-retention";

describe.skipIf(SKIP)("workers across replicas (skipped without DATABASE_URL)", { timeout: 180_000 }, () => {
  let a: ServerProcess;
  let b: ServerProcess;
  const scratch = useScratchDatabase(() => [a, b]);
  const targets: HealthTarget[] = [];

  const start = (name: string) =>
    startServer({
      name,
      env: {
        ...replicaEnv(scratch.url),
        AGENTEX_EVENTS_RETENTION_MS: String(RETENTION),
        AGENTEX_HEALTH_CHECKS: "on",
        AGENTEX_HEALTH_INTERVAL_MS: String(INTERVAL),
        AGENTEX_HEALTH_TIMEOUT_MS: String(TIMEOUT),
        AGENTEX_HEALTH_FAILURES: "2",
        AGENTEX_HEALTH_SUCCESSES: "2",
      },
    });

  beforeAll(async () => {
    a = await start("workers-a");
    b = await start("workers-b");
    for (let i = 0; i < 12; i++) {
      const t = await new HealthTarget().start();
      t.holdMs = 120; // overlapping probes would show in maxInFlight
      targets.push(t);
      ok(
        await a.api("POST", "/api/agents/register", {
          body: { name: `probe-${i}-${t.port}`, description: "", acp_url: t.url, acp_type: "async" },
        }),
        "register",
      );
    }
  });

  afterAll(async () => {
    for (const t of targets) await t.stop();
  });

  /** The purge lease's row while it is live. */
  const purgeLease = async () =>
    (
      await sql<{
        owner: string;
        holder: string;
      }>`select owner, holder from worker_leases where name = ${PURGE_LEASE} and expires_at > now()`.execute(
        scratch.db,
      )
    ).rows[0];

  const holds = async (server: ServerProcess) =>
    (await purgeLease())?.holder.endsWith(` pid ${server.child.pid}`) ?? false;

  /** The replica holding the purge lease, and the other. */
  async function purgeHolder(): Promise<{ holder: ServerProcess; other: ServerProcess; owner: string }> {
    expect(await pollUntil(async () => (await purgeLease()) !== undefined, PURGE_TTL * 2)).toBe(true);
    const lease = (await purgeLease())!;
    const holder = (await holds(a)) ? a : b;
    expect(await holds(holder), `the lease names neither replica: ${lease.holder}`).toBe(true);
    return { holder, other: holder === a ? b : a, owner: lease.owner };
  }

  /** Old events in the outbox, which the purge holder must delete within a purge interval or two. */
  async function agedEvents(via: ServerProcess): Promise<number> {
    ok(
      await via.api("POST", "/api/agents/register-build", {
        body: { name: `aged-${Date.now()}`, description: "" },
      }),
      "agent",
    );
    const r = await sql`update events set created_at = now() - interval '1 hour'`.execute(scratch.db);
    return Number(r.numAffectedRows);
  }
  const outbox = async () =>
    Number((await sql<{ n: number }>`select count(*)::int as n from events`.execute(scratch.db)).rows[0]!.n);

  it("health checks: two replicas never probe one agent at once, each target once per interval", async () => {
    for (const t of targets) {
      t.hits = 0;
      t.maxInFlight = t.inFlight;
    }
    const started = Date.now();
    await sleep(INTERVAL * 6);
    const elapsed = Date.now() - started;
    for (const t of targets) {
      expect(t.maxInFlight, `target ${t.port}`).toBe(1);
      // One probe per interval (plus the probe time): two replicas probing the same target would double it.
      expect(t.hits, `hits on ${t.port} in ${elapsed} ms`).toBeLessThanOrEqual(
        Math.ceil(elapsed / INTERVAL) + 1,
      );
      expect(t.hits).toBeGreaterThanOrEqual(3);
    }
    const statuses = await scratch.db
      .selectFrom("agents")
      .select("status")
      .where("name", "like", "probe-%")
      .execute();
    expect(statuses.every((r: { status: string }) => r.status === "Ready")).toBe(true);
  });

  it("SIGKILL of the purge holder: the other takes the purge once the lease expires, and every probe within one interval", async () => {
    const { holder, other } = await purgeHolder();
    for (const t of targets) t.hitTimes.length = 0;
    const killedAt = Date.now();
    holder.kill("SIGKILL");
    await holder.exited;
    expect(await pollUntil(() => holds(other), PURGE_TTL * 3, 50), other.logs()).toBe(true);
    const movedAfter = Date.now() - killedAt;
    await sleep(Math.max(0, INTERVAL * 4 - (Date.now() - killedAt)));
    const takeover = targets.map((t) => (t.hitTimes[0] ?? Infinity) - killedAt);
    console.log(
      `[faults] workers: after SIGKILL, purge lease moved in ${movedAfter} ms (ttl ${PURGE_TTL} ms); first probe of each target within ${Math.max(...takeover)} ms (interval ${INTERVAL} ms)`,
    );
    // Not before the dead holder's last renewal expired (renewed every third of the ttl)...
    expect(movedAfter).toBeGreaterThanOrEqual((PURGE_TTL * 2) / 3 - 200);
    // ...and no later than that expiry plus one attempt of the other's.
    expect(movedAfter).toBeLessThanOrEqual(PURGE_TTL + PURGE_TTL / 3 + 1_000);
    for (const ms of takeover) expect(ms).toBeLessThanOrEqual(INTERVAL + LEASE_MARGIN + 400);
    for (const t of targets) expect(t.maxInFlight).toBe(1);
    // The survivor does the purging now.
    expect(await agedEvents(other)).toBeGreaterThan(0);
    expect(await pollUntil(async () => (await outbox()) === 0, 5_000), other.logs()).toBe(true);

    // Two replicas again for the next test.
    if (holder === a) a = await start("workers-a2");
    else b = await start("workers-b2");
  });

  it("SIGTERM of the purge holder: it ends its streams with a hint to reconnect, frees its claims, hands the purge over at once, exits 0", async () => {
    const { holder, other, owner } = await purgeHolder();
    const stream = await openSse(`${holder.url}/api/events`, { token: ADMIN_TOKEN });
    expect(stream.status).toBe(200);
    const signalled = Date.now();
    holder.kill("SIGTERM");
    const last = await stream.next(SHUTDOWN_TIMEOUT_MS);
    expect(last, holder.logs()).toMatchObject({
      event: "error",
      data: { code: "SERVICE_UNAVAILABLE", message: expect.stringMatching(/reconnect with Last-Event-ID/) },
    });
    const exit = await Promise.race([
      holder.exited,
      sleep(SHUTDOWN_TIMEOUT_MS + 5_000).then(() => "hung" as const),
    ]);
    expect(exit, holder.logs()).toEqual({ code: 0, signal: null });
    const exitedAfter = Date.now() - signalled;
    // Released on the way out and announced: the other holds it well before a renewal attempt (a third of the ttl).
    expect(await pollUntil(() => holds(other), PURGE_TTL / 3 - 500, 20), other.logs()).toBe(true);
    const movedAfter = Date.now() - signalled;
    const leftClaims = await scratch.db
      .selectFrom("agents")
      .select(sql<number>`count(*)::int`.as("n"))
      .where("health_lease", "=", owner)
      .executeTakeFirstOrThrow();
    expect(leftClaims.n).toBe(0);
    console.log(
      `[faults] workers: SIGTERM → exit 0 in ${exitedAfter} ms, purge lease on the other ${movedAfter} ms after the signal (ttl ${PURGE_TTL} ms)`,
    );
    expect(await agedEvents(other)).toBeGreaterThan(0);
    expect(await pollUntil(async () => (await outbox()) === 0, 5_000), other.logs()).toBe(true);
  });
});
