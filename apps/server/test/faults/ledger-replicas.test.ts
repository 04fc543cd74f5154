/**
 * Promotion ledger, compare-and-swap and idempotency keys across two real
 * server processes on one Postgres: races go through both replicas, and the
 * ledger is then checked straight in the database.
 */
import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import type { Json } from "../helpers.ts";
import { beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, sleep, startServer, type ServerProcess } from "../process.ts";
import { skipWithoutPostgres, useScratchDatabase } from "./postgres.ts";

const SKIP = skipWithoutPostgres("ledger-replicas", "run the multi-replica tests on real Postgres");

interface Answer {
  status: number;
  body: Json;
  headers: Headers | null;
}

/** One JSON call with optional Idempotency-Key; status -1 when it timed out on our side. */
async function call(
  server: ServerProcess,
  method: string,
  path: string,
  opts: { body?: unknown; key?: string; timeoutMs?: number } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { authorization: `Bearer ${ADMIN_TOKEN}` };
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  if (opts.key) headers["idempotency-key"] = opts.key;
  try {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers,
      signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
  } catch (err) {
    if ((err as Error).name === "TimeoutError") return { status: -1, body: null, headers: null };
    throw err;
  }
}

describe.skipIf(SKIP)(
  "ledger, CAS and idempotency across replicas (skipped without DATABASE_URL)",
  { timeout: 120_000 },
  () => {
    let a: ServerProcess;
    let b: ServerProcess;
    const scratch = useScratchDatabase(() => [a, b]);
    const pick = (i: number) => (i % 2 === 0 ? a : b);

    beforeAll(async () => {
      const env = scratch.env({ AGENTEX_BOOTSTRAP_TOKEN: ADMIN_TOKEN });
      [a, b] = await Promise.all([
        startServer({ name: "ledger-a", env }),
        startServer({ name: "ledger-b", env }),
      ]);
    });

    const ok = (res: Answer, what: string) => {
      if (res.status !== 200)
        throw new Error(`${what}: ${res.status} ${JSON.stringify(res.body)}\n${a.logs()}\n${b.logs()}`);
      return res.body;
    };

    /** A built agent with `n` Ready deployments (registered the way pods do). */
    async function agentWithDeployments(n: number) {
      const name = `led-${randomUUID().slice(0, 8)}`;
      const agent = ok(
        await call(a, "POST", "/api/agents/register-build", { body: { name, description: "" } }),
        "register-build",
      );
      const ids: string[] = [];
      for (let i = 0; i < n; i++) {
        const dep = ok(
          await call(pick(i), "POST", `/api/agents/${agent.id}/deployments`, {
            body: { docker_image: "img:test" },
          }),
          "create deployment",
        );
        ok(
          await call(pick(i + 1), "POST", "/api/agents/register", {
            body: {
              name,
              description: "",
              acp_url: `http://${name}-${i}.svc:8000`,
              acp_type: "async",
              registration_metadata: { deployment_id: dep.id },
            },
          }),
          "register",
        );
        ids.push(dep.id);
      }
      return { agent, ids };
    }

    const ledgerRows = async (agentId: string) =>
      (await sql<Json>`select * from promotions where agent_id = ${agentId} order by id`.execute(scratch.db))
        .rows;

    it("64 concurrent promotes through both replicas: one row per change, chained, matching production", async () => {
      const { agent, ids } = await agentWithDeployments(4);
      const answers = await Promise.all(
        Array.from({ length: 64 }, (_, i) =>
          call(pick(i), "POST", `/api/agents/${agent.id}/deployments/${ids[(i * 5) % 4]}/promote`, {
            body: { reason: `storm ${i}` },
          }),
        ),
      );
      expect(answers.map((r) => r.status).filter((s) => s !== 200)).toEqual([]);
      const rows = await ledgerRows(agent.id);
      expect(rows.length).toBeGreaterThanOrEqual(1);
      expect(rows[0].from_deployment_id).toBeNull();
      for (let i = 1; i < rows.length; i++) {
        expect(rows[i].from_deployment_id).toBe(rows[i - 1].to_deployment_id);
        expect(rows[i].to_deployment_id).not.toBe(rows[i].from_deployment_id);
        expect(rows[i].at.getTime()).toBeGreaterThanOrEqual(rows[i - 1].at.getTime());
      }
      // Every row is exactly one request's change (its request id), none twice.
      expect(new Set(rows.map((r: { request_id: string }) => r.request_id)).size).toBe(rows.length);
      const agentRow = (
        await sql<Json>`select production_deployment_id from agents where id = ${agent.id}`.execute(
          scratch.db,
        )
      ).rows[0];
      expect(rows.at(-1).to_deployment_id).toBe(agentRow.production_deployment_id);

      // "At time T", asked of either replica, matches the ledger.
      for (const [i, row] of rows.entries()) {
        const at = row.at.toISOString();
        const inForce = rows.filter((r: { at: Date }) => r.at.getTime() <= row.at.getTime()).at(-1);
        const answer = ok(
          await call(pick(i), "GET", `/api/agents/${agent.id}/production?at=${encodeURIComponent(at)}`),
          "production at",
        );
        expect(answer.deployment_id).toBe(inForce.to_deployment_id);
        expect(answer.promotion.id).toBe(Number(inForce.id));
      }
    });

    it("N concurrent CAS promotes from the same expected state through both replicas: exactly one wins", async () => {
      const { agent, ids } = await agentWithDeployments(9);
      const [base, ...targets] = ids as [string, ...string[]];
      ok(
        await call(a, "POST", `/api/agents/${agent.id}/deployments/${base}/promote`, { body: {} }),
        "promote base",
      );
      const answers = await Promise.all(
        targets.map((t, i) =>
          call(pick(i), "POST", `/api/agents/${agent.id}/deployments/${t}/promote`, {
            body: { expected_current_deployment_id: base },
          }),
        ),
      );
      const winners = answers.filter((r) => r.status === 200);
      expect(winners).toHaveLength(1);
      const winner = winners[0]!.body.id;
      for (const r of answers.filter((x) => x.status !== 200)) {
        expect(r.status).toBe(409);
        expect(r.body).toMatchObject({
          status_code: 409,
          code: "PRODUCTION_CHANGED",
          current_deployment_id: winner,
        });
        expect(r.body.request_id).toEqual(expect.any(String));
      }
      expect(
        (await ledgerRows(agent.id)).map((r: { to_deployment_id: string }) => r.to_deployment_id),
      ).toEqual([base, winner]);
    });

    it("a client timeout, then a retry with the same key on the other replica: promoted exactly once", async () => {
      const { agent, ids } = await agentWithDeployments(2);
      ok(
        await call(a, "POST", `/api/agents/${agent.id}/deployments/${ids[0]}/promote`, { body: {} }),
        "promote first",
      );
      const key = `retry-${randomUUID()}`;
      const path = `/api/agents/${agent.id}/deployments/${ids[1]}/promote`;

      // Hold the agent row so the first attempt cannot finish before the client gives up.
      const holder = await scratch.db.connection().execute(async (conn) => {
        await sql`begin`.execute(conn);
        await sql`select id from agents where id = ${agent.id} for update`.execute(conn);
        const first = await call(a, "POST", path, { body: { reason: "ship it" }, key, timeoutMs: 500 });
        expect(first.status).toBe(-1); // the client timed out; the server is still working on it
        // The retry arrives while the first is still in flight: it waits on the key, never runs twice.
        const retry = call(b, "POST", path, { body: { reason: "ship it" }, key });
        await sleep(300);
        await sql`commit`.execute(conn);
        return retry;
      });
      expect(holder.status).toBe(200);
      expect(holder.body).toMatchObject({ id: ids[1], is_production: true });
      expect(holder.headers!.get("idempotent-replayed")).toBe("true");

      // A later retry (either replica) replays the same answer.
      const late = await call(a, "POST", path, { body: { reason: "ship it" }, key });
      expect(late.status).toBe(200);
      expect(late.body).toEqual(holder.body);
      expect(late.headers!.get("idempotent-replayed")).toBe("true");

      const rows = await ledgerRows(agent.id);
      expect(
        rows.map((r: { from_deployment_id: string; to_deployment_id: string }) => [
          r.from_deployment_id,
          r.to_deployment_id,
        ]),
      ).toEqual([
        [null, ids[0]],
        [ids[0], ids[1]],
      ]);
      // The same key with another body is a 422, on either replica.
      const other = await call(b, "POST", path, { body: { reason: "something else" }, key });
      expect(other.status).toBe(422);
      expect(other.body).toMatchObject({ status_code: 422, code: "IDEMPOTENCY_KEY_REUSED" });
    });

    it("replays work across replicas: create on A, retry on B returns the same deployment", async () => {
      const { agent } = await agentWithDeployments(0);
      const key = `create-${randomUUID()}`;
      const first = ok(
        await call(a, "POST", `/api/agents/${agent.id}/deployments`, {
          body: { docker_image: "img:1" },
          key,
        }),
        "create",
      );
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          call(pick(i), "POST", `/api/agents/${agent.id}/deployments`, {
            body: { docker_image: "img:1" },
            key,
          }),
        ),
      );
      for (const r of answers) {
        expect(r.status).toBe(200);
        expect(r.body).toEqual(first);
        expect(r.headers!.get("idempotent-replayed")).toBe("true");
      }
      const count = (
        await sql<Json>`select count(*)::int as n from deployments where agent_id = ${agent.id}`.execute(
          scratch.db,
        )
      ).rows[0].n;
      expect(count).toBe(1);

      // Concurrent first attempts on both replicas at once: one execution.
      const key2 = `burst-${randomUUID()}`;
      const burst = await Promise.all(
        Array.from({ length: 16 }, (_, i) =>
          call(pick(i), "POST", `/api/agents/${agent.id}/deployments`, {
            body: { docker_image: "img:test" },
            key: key2,
          }),
        ),
      );
      expect(burst.map((r) => r.status).filter((s) => s !== 200)).toEqual([]);
      expect(new Set(burst.map((r) => r.body.id)).size).toBe(1);
      const count2 = (
        await sql<Json>`select count(*)::int as n from deployments where agent_id = ${agent.id}`.execute(
          scratch.db,
        )
      ).rows[0].n;
      expect(count2).toBe(2);
    });

    it("rollback through the other replica walks back, and is a ledger row", async () => {
      const { agent, ids } = await agentWithDeployments(3);
      for (const [i, id] of ids.entries())
        ok(
          await call(pick(i), "POST", `/api/agents/${agent.id}/deployments/${id}/promote`, { body: {} }),
          "promote",
        );
      const r1 = ok(
        await call(b, "POST", `/api/agents/${agent.id}/rollback`, { body: { reason: "bad build" } }),
        "rollback 1",
      );
      expect(r1.deployment.id).toBe(ids[1]);
      const r2 = ok(
        await call(a, "POST", `/api/agents/${agent.id}/rollback`, {
          body: { expected_current_deployment_id: ids[1] },
        }),
        "rollback 2",
      );
      expect(r2.deployment.id).toBe(ids[0]);
      const page = ok(await call(b, "GET", `/api/agents/${agent.id}/promotions?limit=2`), "list");
      expect(
        page.items.map((r: { kind: string; to_deployment_id: string }) => [r.kind, r.to_deployment_id]),
      ).toEqual([
        ["rollback", ids[0]],
        ["rollback", ids[1]],
      ]);
      expect(page.next_cursor).toEqual(expect.any(String));
      const rest = ok(
        await call(a, "GET", `/api/agents/${agent.id}/promotions?limit=10&cursor=${page.next_cursor}`),
        "list 2",
      );
      expect(rest.items.map((r: { kind: string }) => r.kind)).toEqual(["promote", "promote", "promote"]);
      expect(rest.next_cursor).toBeNull();
    });
  },
);
