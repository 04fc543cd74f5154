/**
 * Two real server processes on one Postgres, each with its principal cache:
 * a revocation made through one replica stops the credential on the other
 * within a second (LISTEN/NOTIFY), and at once on the replica that made it.
 * Postgres only: the embedded store is one process.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  SECRET_KEY,
  scratchDatabase,
  sleep,
  startServer,
  type ApiResult,
  type ServerProcess,
} from "../process.ts";

const DATABASE_URL = process.env.DATABASE_URL;
const SKIP = !DATABASE_URL;

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
    let scratch: Awaited<ReturnType<typeof scratchDatabase>>;
    let a: ServerProcess;
    let b: ServerProcess;

    beforeAll(async () => {
      scratch = await scratchDatabase(DATABASE_URL!);
      const env = { DATABASE_URL: scratch.url, AGENTEX_SECRET_KEY: SECRET_KEY };
      a = await startServer({ name: "replica-a", env });
      b = await startServer({ name: "replica-b", env });
    });

    afterAll(async () => {
      a?.kill("SIGKILL");
      b?.kill("SIGKILL");
      await Promise.all([a?.exited, b?.exited]);
      await scratch?.drop();
    });

    const body = (res: ApiResult, what: string) => {
      if (res.status !== 200) throw new Error(`${what}: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    };

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
