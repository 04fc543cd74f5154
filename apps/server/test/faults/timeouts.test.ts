/**
 * A stuck query cannot pin the server: statements are cancelled after
 * AGENTEX_STATEMENT_TIMEOUT_MS, and a request that cannot get a pooled
 * connection within AGENTEX_DB_ACQUIRE_TIMEOUT_MS fails with a clean 503
 * instead of queueing forever. Postgres only (the embedded store has no pool
 * and no concurrent sessions to block on).
 */
import { connectPostgres } from "@agentex/db";
import type { DB } from "@agentex/db";
import { sql, type Kysely } from "kysely";
import { beforeAll, describe, expect, it } from "vitest";
import { startServer, type ApiResult, type ServerProcess } from "../process.ts";
import { skipWithoutPostgres, useScratchDatabase } from "./postgres.ts";

const SKIP = skipWithoutPostgres("timeouts", "run the statement/acquire timeout tests on Postgres");

const STATEMENT_TIMEOUT_MS = 5_000;
const ACQUIRE_TIMEOUT_MS = 500;
/** Generous "did not hang" bound on top of the configured timeout. */
const SLACK_MS = 8_000;

describe.skipIf(SKIP)(
  "timeouts: a stuck query cannot pin the server (skipped without DATABASE_URL)",
  { timeout: 60_000 },
  () => {
    let server: ServerProcess | undefined;
    const scratch = useScratchDatabase(() => [server]);
    let agent: { id: string; dep: string };

    beforeAll(async () => {
      server = await startServer({
        name: "timeouts",
        env: scratch.env({
          // One connection, so one blocked request holds the whole pool.
          AGENTEX_DB_POOL_MAX: "1",
          AGENTEX_DB_ACQUIRE_TIMEOUT_MS: String(ACQUIRE_TIMEOUT_MS),
          AGENTEX_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
        }),
      });
      const created = await server.api("POST", "/api/agents/register-build", {
        body: { name: "stuck", description: "s" },
      });
      const dep = await server.api("POST", `/api/agents/${created.body.id}/deployments`, {
        body: { docker_image: "img:test" },
      });
      const reg = await server.api("POST", "/api/agents/register", {
        body: {
          name: "stuck",
          description: "s",
          acp_url: "http://127.0.0.1:9/stuck",
          acp_type: "async",
          agent_id: created.body.id,
          registration_metadata: { deployment_id: dep.body.id },
        },
      });
      expect([created.status, dep.status, reg.status]).toEqual([200, 200, 200]);
      agent = { id: created.body.id, dep: dep.body.id };
    }, 90_000);

    /** Runs `fn` while another session holds the agent's row lock (released when `fn` returns). */
    async function withRowLocked<T>(fn: () => Promise<T>): Promise<T> {
      return scratch.db.connection().execute(async (conn) => {
        await sql`begin`.execute(conn);
        try {
          await sql`select id from agents where id = ${agent.id} for update`.execute(conn);
          return await fn();
        } finally {
          await sql`rollback`.execute(conn);
        }
      });
    }

    const promote = () =>
      server!.api("POST", `/api/agents/${agent.id}/deployments/${agent.dep}/promote`, {
        timeoutMs: STATEMENT_TIMEOUT_MS + SLACK_MS + 5_000,
      });

    it("the pool the server builds cancels a statement running past its statement timeout (pg_sleep)", async () => {
      // The pool as the server builds it, with a short timeout: pg_sleep far beyond it is cancelled.
      const pool = connectPostgres({ url: scratch.url, max: 1, statementTimeoutMs: 300 });
      try {
        const started = performance.now();
        const err = await sql`select pg_sleep(20)`.execute(pool.db).then(
          () => null,
          (e: unknown) => e as { code?: string },
        );
        expect(err?.code, "pg_sleep(20) was not cancelled").toBe("57014"); // query_canceled
        expect(performance.now() - started).toBeLessThan(300 + SLACK_MS);
      } finally {
        await pool.close();
      }
    });

    it("a request stuck behind a row lock is cancelled: a clean 503 within bounds, and the server keeps serving", async () => {
      const res = await withRowLocked(promote);
      expect(res.status, JSON.stringify(res.body)).toBe(503);
      expect(res.body).toMatchObject({ status_code: 503, code: "SERVICE_UNAVAILABLE" });
      expect(JSON.stringify(res.body)).not.toMatch(/statement timeout|canceling|SQL/i);
      expect(
        res.ms,
        "returned before the statement timeout: not the lock wait being cancelled",
      ).toBeGreaterThan(STATEMENT_TIMEOUT_MS * 0.8);
      expect(res.ms, "did not hang").toBeLessThan(STATEMENT_TIMEOUT_MS + SLACK_MS);

      // Nothing of the server is left waiting in the database, and it serves again at once.
      const waiting = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity
      where datname = current_database() and wait_event_type = 'Lock'`.execute(scratch.db);
      expect(waiting.rows[0]!.n).toBe(0);
      const again = await promote();
      expect(again.status, JSON.stringify(again.body)).toBe(200);
      expect(again.body.is_production).toBe(true);
    });

    it("with the pool held by a stuck request, others fail with 503 after AGENTEX_DB_ACQUIRE_TIMEOUT_MS instead of queueing", async () => {
      const outcome = await withRowLocked(async () => {
        // The only connection is now inside the promote's transaction, waiting on the lock.
        let stuckDone = false;
        const stuck = promote().then((r) => {
          stuckDone = true;
          return r;
        });
        const blocked = await waitForLockWaiter(scratch.db, 10_000);
        expect(blocked, "the promote never reached the row lock").toBe(true);

        const list: ApiResult = await server!.api("GET", "/api/agents", {
          timeoutMs: ACQUIRE_TIMEOUT_MS + SLACK_MS + 5_000,
        });
        const ready: ApiResult = await server!.api("GET", "/readyz", {
          token: null,
          timeoutMs: SLACK_MS + 5_000,
        });
        const listedWhileStuck = !stuckDone;
        return { list, ready, listedWhileStuck, stuck };
      });
      // The lock is released (rolled back) once the callback returns: the stuck promote then completes.
      const stuck = await outcome.stuck;

      expect(
        outcome.listedWhileStuck,
        "the list request was answered only after the stuck one finished",
      ).toBe(true);
      expect(outcome.list.status, JSON.stringify(outcome.list.body)).toBe(503);
      expect(outcome.list.body).toMatchObject({ status_code: 503, code: "SERVICE_UNAVAILABLE" });
      expect(JSON.stringify(outcome.list.body)).not.toMatch(/timeout exceeded|pool/i);
      expect(outcome.list.ms, "did not hang").toBeLessThan(ACQUIRE_TIMEOUT_MS + SLACK_MS);
      expect(outcome.ready.status).toBe(503);
      expect(outcome.ready.ms, "/readyz did not hang").toBeLessThan(SLACK_MS);

      // The promote of the production deployment is a no-op success once the lock goes.
      expect(stuck.status, JSON.stringify(stuck.body)).toBe(200);
      const after = await server!.api("GET", "/api/agents");
      expect(after.status).toBe(200);
      expect((await server!.api("GET", "/readyz", { token: null })).status).toBe(200);
    });
  },
);

async function waitForLockWaiter(db: Kysely<DB>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 1_000 && Date.now() < deadline; i++) {
    const r = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity
      where datname = current_database() and wait_event_type = 'Lock'`.execute(db);
    if (r.rows[0]!.n > 0) return true;
    await new Promise((res) => setTimeout(res, 50));
  }
  return false;
}
