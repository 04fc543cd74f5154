/**
 * SIGTERM on a real server process over real Postgres: the request in flight
 * finishes, new connections are refused, and the process exits 0 within the
 * drain timeout. Postgres only: a row lock held from outside keeps the
 * request in flight for certain.
 */
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sleep, startServer, type ServerProcess } from "../process.ts";
import { skipWithoutPostgres, useScratchDatabase } from "./postgres.ts";
import { SHUTDOWN_TIMEOUT_MS, ok, pollUntil, replicaEnv, tcpConnect } from "./replicas.ts";

const SKIP = skipWithoutPostgres("replica drain", "run it on real Postgres");

describe.skipIf(SKIP)("replicas on one Postgres (skipped without DATABASE_URL)", { timeout: 150_000 }, () => {
  let a: ServerProcess | undefined;
  const scratch = useScratchDatabase(() => [a]);
  let invariantsChecked = 0;

  beforeAll(async () => {
    a = await startServer({ name: "replica-a", env: replicaEnv(scratch.url) });
  });

  afterAll(() => {
    console.log(`[faults] replica drain: ${invariantsChecked} invariants checked`);
  });

  it("SIGTERM: the in-flight request finishes, new connections are refused, exit 0 within the drain timeout", async () => {
    expect(a, "replica a did not start").toBeTruthy();
    const server = a!;
    const agent = ok(
      await server.api("POST", "/api/agents/register-build", { body: { name: "drain", description: "d" } }),
      "drain agent",
    );
    const dep = ok(
      await server.api("POST", `/api/agents/${agent.id}/deployments`, { body: { docker_image: "img:test" } }),
      "drain deployment",
    );
    ok(
      await server.api("POST", "/api/agents/register", {
        body: {
          name: "drain",
          description: "d",
          acp_url: "http://127.0.0.1:9/drain",
          acp_type: "async",
          agent_id: agent.id,
          registration_metadata: { deployment_id: dep.id },
        },
      }),
      "drain register",
    );

    // Make one request slow for certain: hold the agent's row lock from outside,
    // so the promote waits inside its transaction.
    const lock = await scratch.db.connection().execute(async (conn) => {
      await sql`begin`.execute(conn);
      await sql`select id from agents where id = ${agent.id} for update`.execute(conn);
      const inflight = server.api("POST", `/api/agents/${agent.id}/deployments/${dep.id}/promote`, {
        timeoutMs: 30_000,
      });
      // ... plus a burst of quick ones, in flight together with it.
      const burst = Array.from({ length: 20 }, () =>
        server.api("GET", `/api/agents/${agent.id}`, { timeoutMs: 30_000 }),
      );
      const waiting = await pollUntil(async () => {
        const r = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity
          where datname = current_database() and wait_event_type = 'Lock'`.execute(scratch.db);
        return r.rows[0]!.n > 0;
      }, 10_000);
      expect(waiting, "the promote never reached the row lock").toBe(true);
      const burstResults = await Promise.all(burst);

      const signalled = Date.now();
      server.kill("SIGTERM");
      // New connections are refused while the promote is still running.
      const refused = await pollUntil(async () => (await tcpConnect(server.port)) === "refused", 5_000);
      expect(refused, `still accepting connections after SIGTERM\n${server.logs()}`).toBe(true);
      const late = await server.api("GET", "/healthz", { token: null, timeoutMs: 5_000 });
      expect([0, 503], `a new request after SIGTERM got ${late.status}`).toContain(late.status);
      await sleep(500);
      expect(server.child.exitCode, "exited before its in-flight request finished").toBeNull();
      await sql`commit`.execute(conn);
      return { inflight: await inflight, burstResults, signalled };
    });

    expect(lock.inflight.status, JSON.stringify(lock.inflight.body)).toBe(200);
    expect(lock.inflight.body.is_production).toBe(true);
    for (const res of lock.burstResults) expect(res.status).toBe(200);
    const exit = await Promise.race([
      server.exited,
      sleep(SHUTDOWN_TIMEOUT_MS + 5_000).then(() => "hung" as const),
    ]);
    expect(exit, server.logs()).toEqual({ code: 0, signal: null });
    const row = await scratch.db
      .selectFrom("agents")
      .select("production_deployment_id")
      .where("id", "=", agent.id)
      .executeTakeFirstOrThrow();
    expect(row.production_deployment_id).toBe(dep.id);
    invariantsChecked++;
    console.log(
      `[faults] SIGTERM: in-flight promote answered 200, exit 0 after ${Date.now() - lock.signalled} ms`,
    );
  });
});
