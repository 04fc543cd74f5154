/**
 * Two real server processes on one Postgres, each with its principal cache:
 * a revocation made through one replica stops the credential on the other
 * within a second (LISTEN/NOTIFY), and at once on the replica that made it.
 * Postgres only: the embedded store is one process.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { sleep, startServer, type ServerProcess } from "../process.ts";
import { skipWithoutPostgres, useScratchDatabase } from "./postgres.ts";
import { ok as body } from "./replicas.ts";

const SKIP = skipWithoutPostgres("auth-propagation", "run the credential propagation tests on real Postgres");

/** Polls until `check` holds; returns how long it took (ms). */
async function within(limitMs: number, check: () => Promise<boolean>): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await check()) return performance.now() - started;
    if (performance.now() - started > limitMs) throw new Error(`not within ${limitMs} ms`);
    await sleep(10);
  }
}

describe.skipIf(SKIP)(
  "credential changes reach every replica (skipped without DATABASE_URL)",
  { timeout: 120_000 },
  () => {
    let a: ServerProcess;
    let b: ServerProcess;
    const scratch = useScratchDatabase(() => [a, b]);

    beforeAll(async () => {
      a = await startServer({ name: "replica-a", env: scratch.env() });
      b = await startServer({ name: "replica-b", env: scratch.env() });
    });

    it("a token revoked on replica A is refused by A at once and by B (which had it cached) within 1 s", async () => {
      const p = body(
        await a.api("POST", "/api/principals", { body: { name: "dana", kind: "user" } }),
        "create principal",
      );
      // B authenticates it several times: it is cached there now.
      for (let i = 0; i < 3; i++)
        expect((await b.api("GET", "/api/me", { token: p.token })).status).toBe(200);
      expect((await a.api("GET", "/api/me", { token: p.token })).status).toBe(200);

      body(await a.api("DELETE", `/api/tokens/${p.token_id}`), "revoke");
      expect((await a.api("GET", "/api/me", { token: p.token })).status).toBe(401);
      const ms = await within(
        1_000,
        async () => (await b.api("GET", "/api/me", { token: p.token })).status === 401,
      );
      console.log(
        `[faults] auth propagation: token revocation reached the other replica in ${ms.toFixed(0)} ms`,
      );
    });

    it("an agent deleted on B stops its API key on A within 1 s; a grant revoked on A stops reads on B at once", async () => {
      const owner = body(
        await a.api("POST", "/api/principals", {
          body: { name: "olga", kind: "user", can_create_agents: true },
        }),
        "owner",
      );
      const viewer = body(
        await a.api("POST", "/api/principals", { body: { name: "vic", kind: "user" } }),
        "viewer",
      );
      const agent = body(
        await a.api("POST", "/api/agents/register-build", {
          token: owner.token,
          body: { name: "prop-bot", description: "x" },
        }),
        "agent",
      );
      const key = body(
        await a.api("POST", "/api/agent_api_keys", {
          token: owner.token,
          body: { agent_id: agent.id, name: "ci" },
        }),
        "key",
      ).api_key;

      // Grants are read in the same query as the agent, never cached: immediate everywhere.
      body(
        await a.api("PUT", `/api/agents/${agent.id}/grants/${viewer.id}`, {
          token: owner.token,
          body: { role: "viewer" },
        }),
        "grant",
      );
      expect((await b.api("GET", `/api/agents/${agent.id}`, { token: viewer.token })).status).toBe(200);
      body(
        await a.api("DELETE", `/api/agents/${agent.id}/grants/${viewer.id}`, { token: owner.token }),
        "revoke grant",
      );
      expect((await b.api("GET", `/api/agents/${agent.id}`, { token: viewer.token })).status).toBe(404);

      // The agent's key, cached on A, dies with the agent deleted through B.
      for (let i = 0; i < 3; i++)
        expect((await a.api("GET", `/api/agents/${agent.id}`, { token: key })).status).toBe(200);
      body(await b.api("DELETE", `/api/agents/${agent.id}`, { token: owner.token }), "delete");
      expect((await b.api("GET", "/api/me", { token: key })).status).toBe(401);
      const ms = await within(
        1_000,
        async () => (await a.api("GET", "/api/me", { token: key })).status === 401,
      );
      console.log(
        `[faults] auth propagation: agent deletion reached the other replica in ${ms.toFixed(0)} ms`,
      );
    });
  },
);
