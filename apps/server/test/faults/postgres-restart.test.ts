/**
 * Postgres restarted under load: requests fail fast with 503 (never hang,
 * never 500), /readyz goes 503 and back to 200, and the same server process
 * recovers without a restart. Runs on a private PostgreSQL cluster of its own
 * (initdb in a temp dir, its own port): the machine's shared instance is never
 * touched. Grouped with the Postgres runs, so skipped without DATABASE_URL.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  SECRET_KEY,
  directDb,
  sleep,
  startPrivatePostgres,
  startServer,
  type PrivatePostgres,
  type ServerProcess,
} from "../process.ts";
import { Tally } from "./load.ts";

const SKIP = !process.env.DATABASE_URL;
if (SKIP)
  console.warn("[faults] postgres restart: SKIPPED (set DATABASE_URL to run the Postgres fault tests)");

const ACQUIRE_TIMEOUT_MS = 2_000;
const STATEMENT_TIMEOUT_MS = 5_000;
/** "Did not hang": a failing request must be answered well within this. */
const FAIL_FAST_BOUND_MS = ACQUIRE_TIMEOUT_MS + STATEMENT_TIMEOUT_MS + 3_000;

describe.skipIf(SKIP)(
  "Postgres restarted under load (private cluster; skipped without DATABASE_URL)",
  { timeout: 120_000 },
  () => {
    let pg: PrivatePostgres | undefined;
    let server: ServerProcess | undefined;

    beforeAll(async () => {
      pg = await startPrivatePostgres();
      server = await startServer({
        name: "server-on-private-pg",
        env: {
          DATABASE_URL: pg.url,
          AGENTEX_SECRET_KEY: SECRET_KEY,
          AGENTEX_DB_ACQUIRE_TIMEOUT_MS: String(ACQUIRE_TIMEOUT_MS),
          AGENTEX_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
        },
      });
    }, 90_000);

    afterAll(async () => {
      if (server) {
        server.kill("SIGKILL");
        await server.exited;
      }
      await pg?.destroy();
    });

    it("fails fast with 503 while Postgres is down, /readyz follows, and the server recovers by itself", async () => {
      const srv = server!;
      const tally = new Tally();
      let phase: "up" | "down" | "restarting" | "recovered" = "up";
      const phaseOf = new Map<object, string>();
      let stop = false;
      let seq = 0;
      const acked = new Map<string, string>();

      // Four workers mixing reads and writes, bounded by a flag, a count and a deadline.
      const deadline = Date.now() + 90_000;
      const worker = async (w: number) => {
        for (let k = 0; k < 5_000 && !stop && Date.now() < deadline; k++) {
          const i = seq++;
          const started = phase;
          let label: string;
          let res;
          if (i % 3 === 0) {
            label = "registerBuild";
            res = await srv.api("POST", "/api/agents/register-build", {
              body: { name: `pgr-${i}`, description: "x" },
              timeoutMs: 30_000,
            });
            if (res.status === 200) acked.set(res.body.id as string, `pgr-${i}`);
          } else if (i % 3 === 1) {
            label = "listAgents";
            res = await srv.api("GET", "/api/agents?limit=20", { timeoutMs: 30_000 });
          } else {
            label = "me";
            res = await srv.api("GET", "/api/me", { timeoutMs: 30_000 });
          }
          tally.record(label, `${started}->${phase}`, res);
          phaseOf.set(tally.samples[tally.samples.length - 1]!, started);
          // Pace the load a little while the database is away (503s come back instantly).
          await sleep(phase === "up" || phase === "recovered" ? 5 : 25 + w);
        }
      };

      const readyz: Array<{ phase: string; status: number }> = [];
      const pollReadyz = async (want: number, timeoutMs: number) => {
        const until = Date.now() + timeoutMs;
        for (let k = 0; k < 1_000 && Date.now() < until; k++) {
          const res = await srv.api("GET", "/readyz", { token: null, timeoutMs: 10_000 });
          readyz.push({ phase, status: res.status });
          expect(
            res.status,
            `/readyz answered ${res.status} (${JSON.stringify(res.body)}) in ${Math.round(res.ms)} ms\n${srv.logs()}`,
          ).toBeGreaterThan(0);
          expect(res.ms, "/readyz hung").toBeLessThan(FAIL_FAST_BOUND_MS);
          if (res.status === want) return true;
          await sleep(100);
        }
        return false;
      };

      const load = Promise.all([0, 1, 2, 3].map(worker));
      try {
        await sleep(1_500);
        expect(await pollReadyz(200, 5_000)).toBe(true);

        phase = "down";
        await pg!.stop();
        expect(await pollReadyz(503, 15_000), "/readyz never reported the database down").toBe(true);
        await sleep(2_500);

        phase = "restarting";
        await pg!.start();
        expect(await pollReadyz(200, 30_000), `/readyz never recovered\n${srv.logs()}`).toBe(true);
        phase = "recovered";
        await sleep(2_000);
      } finally {
        stop = true;
        await load;
      }

      const during = tally.samples.filter((s) => phaseOf.get(s) === "down" || s.server.includes("down"));
      const after = tally.samples.filter((s) => phaseOf.get(s) === "recovered");
      const unavailable = tally.samples.filter((s) => s.status === 503);
      const bad = tally.samples.filter((s) => s.status !== 200 && s.status !== 503);
      console.log(
        `[faults] postgres restart: ${tally.total} requests (${during.length} while down, ${after.length} after recovery), ` +
          `${unavailable.length} x 503, slowest 503 ${Math.round(Math.max(0, ...unavailable.map((s) => s.ms)))} ms, ` +
          `statuses ${JSON.stringify(tally.byStatus())}, /readyz ${readyz.map((r) => r.status).join(",")}`,
      );

      // Never a 500, never a hang or a dropped connection: 200, or 503 with the SPEC body.
      expect(bad, Tally.show(bad)).toHaveLength(0);
      expect(unavailable.length, "no request saw the database down").toBeGreaterThan(0);
      for (const s of unavailable) {
        expect(s.ms, `a 503 took ${Math.round(s.ms)} ms`).toBeLessThan(FAIL_FAST_BOUND_MS);
        expect(s.body).toMatchObject({ status_code: 503, code: "SERVICE_UNAVAILABLE" });
        expect(JSON.stringify(s.body)).not.toMatch(/ECONNREFUSED|terminat|postgres|at \w+ \(/i);
      }
      // /readyz: ready, then unavailable, then ready again.
      const statuses = readyz.map((r) => r.status);
      const firstDown = statuses.indexOf(503);
      expect(statuses[0]).toBe(200);
      expect(firstDown).toBeGreaterThan(0);
      expect(statuses.slice(firstDown).includes(200)).toBe(true);
      // Recovered without a restart: the same process serves everything again.
      expect(srv.child.exitCode).toBeNull();
      expect(after.length).toBeGreaterThan(10);
      expect(
        after.filter((s) => s.status !== 200),
        Tally.show(after.filter((s) => s.status !== 200)),
      ).toHaveLength(0);

      // Every acknowledged write survived the restart.
      const db = directDb(pg!.url);
      try {
        for (const [id, name] of acked) {
          const row = await db.selectFrom("agents").select("name").where("id", "=", id).executeTakeFirst();
          expect(row, `acknowledged ${name}`).toMatchObject({ name });
        }
      } finally {
        await db.destroy();
      }
    });
  },
);
