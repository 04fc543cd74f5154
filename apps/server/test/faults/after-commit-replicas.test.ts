/**
 * After-commit work across two real server processes on one Postgres, with an
 * Idempotency-Key as without one: a credential revoked through replica A is
 * refused by replica B within a second, and a change made through A reaches a
 * change-feed subscriber on B within a second (by NOTIFY: the feed's poll is
 * set far beyond that).
 *
 * Revocations are made to commit slowly (a deferred trigger sleeps at commit,
 * as a slow disk would), and B is asked for the credential throughout. A
 * replica told to drop the credential before the commit re-reads it as still
 * live during that window and caches it for the cache's whole TTL; the slow
 * commit makes that window certain rather than lucky. Postgres only: the
 * replicas meet through LISTEN/NOTIFY.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { sql } from "kysely";
import { ADMIN_TOKEN, sleep, startServer, type ServerProcess } from "../process.ts";
import { openSse } from "../sse.ts";
import { skipWithoutPostgres, useScratchDatabase } from "./postgres.ts";
import { ok, pollUntil } from "./replicas.ts";

const SKIP = skipWithoutPostgres("after-commit-replicas", "run the after-commit tests on real Postgres");

/** How long each revoked row holds its commit. */
const SLOW_COMMIT_S = 0.3;

describe.skipIf(SKIP)(
  "after-commit work reaches the other replica, with or without an Idempotency-Key (skipped without DATABASE_URL)",
  { timeout: 120_000 },
  () => {
    let a: ServerProcess;
    let b: ServerProcess;
    const scratch = useScratchDatabase(() => [a, b]);

    beforeAll(async () => {
      const env = scratch.env({ AGENTEX_EVENTS_POLL_MS: "600000" });
      a = await startServer({ name: "after-commit-a", env });
      b = await startServer({ name: "after-commit-b", env });
      // The servers have migrated the database; now every revocation commits slowly.
      await sql`create function faults_slow_commit() returns trigger language plpgsql as $$
        begin perform pg_sleep(${sql.lit(SLOW_COMMIT_S)}); return null; end $$`.execute(scratch.db);
      for (const table of ["agent_api_keys", "api_tokens"]) {
        await sql`create constraint trigger faults_slow_commit after update on ${sql.table(table)}
          deferrable initially deferred for each row
          when (old.revoked_at is null and new.revoked_at is not null)
          execute function faults_slow_commit()`.execute(scratch.db);
      }
    });

    const idempotency = (key: string | null) => (key ? { "Idempotency-Key": key } : undefined);
    const status = async (server: ServerProcess, credential: string) =>
      (await server.api("GET", "/api/me", { token: credential })).status;

    /**
     * Asks `server` for `credential` over and over until stopped (as other
     * clients would), from its first 200 on: it is cached there.
     */
    async function keepAsking(server: ServerProcess, credential: string) {
      expect(await status(server, credential)).toBe(200);
      let asked = 0;
      let stopped = false;
      const loop = (async () => {
        while (!stopped) {
          await status(server, credential);
          asked++;
        }
      })();
      return async () => {
        stopped = true;
        await loop;
        return asked;
      };
    }

    /** Time from now until `server` refuses `credential`; fails past 1 s. */
    async function refusedWithinOneSecond(server: ServerProcess, credential: string, what: string) {
      const started = performance.now();
      const refused = await pollUntil(async () => (await status(server, credential)) === 401, 1_000, 10);
      const ms = performance.now() - started;
      expect(refused, `${what}: ${server.name} still accepts it 1 s after the answer\n${server.logs()}`).toBe(
        true,
      );
      return ms;
    }

    /** An owner, its agent and an external key of that agent, made through `server`. */
    async function agentWithKey(server: ServerProcess) {
      const tag = Math.random().toString(16).slice(2, 10);
      const owner = ok(
        await server.api("POST", "/api/principals", {
          body: { name: `owner-${tag}`, kind: "user", can_create_agents: true },
        }),
        "owner",
      );
      const agent = ok(
        await server.api("POST", "/api/agents/register-build", {
          token: owner.token,
          body: { name: `after-commit-${tag}`, description: "" },
        }),
        "agent",
      );
      const key = ok(
        await server.api("POST", "/api/agent_api_keys", {
          token: owner.token,
          body: { agent_id: agent.id, name: "ci" },
        }),
        "key",
      );
      return { owner, agent, key };
    }

    for (const key of [null, "revoke-api-key"]) {
      it(`an agent API key revoked on A ${key ? "with" : "without"} an Idempotency-Key is refused by B within 1 s`, async () => {
        const { owner, key: apiKey } = await agentWithKey(a);
        const stop = await keepAsking(b, apiKey.api_key);
        ok(
          await a.api("DELETE", `/api/agent_api_keys/${apiKey.id}`, {
            token: owner.token,
            headers: idempotency(key),
          }),
          "revoke",
        );
        expect(await stop(), "B was asked while the revocation committed").toBeGreaterThan(0);
        expect(await status(a, apiKey.api_key)).toBe(401);
        const ms = await refusedWithinOneSecond(b, apiKey.api_key, "the revoked key");
        console.log(
          `[faults] after-commit: key revoked on A (key: ${key ?? "none"}) refused on B after ${ms.toFixed(0)} ms`,
        );
      });
    }

    for (const key of [null, "revoke-token"]) {
      it(`a token revoked on A ${key ? "with" : "without"} an Idempotency-Key is refused by B within 1 s`, async () => {
        const p = ok(
          await a.api("POST", "/api/principals", {
            body: { name: `tok-${Math.random().toString(16).slice(2, 10)}`, kind: "user" },
          }),
          "principal",
        );
        const stop = await keepAsking(b, p.token);
        ok(await a.api("DELETE", `/api/tokens/${p.token_id}`, { headers: idempotency(key) }), "revoke");
        expect(await stop()).toBeGreaterThan(0);
        expect(await status(a, p.token)).toBe(401);
        await refusedWithinOneSecond(b, p.token, "the revoked token");
      });
    }

    for (const key of [null, "delete-agent"]) {
      it(`an agent deleted on A ${key ? "with" : "without"} an Idempotency-Key: B's subscriber sees agent.deleted, and B refuses its key, within 1 s`, async () => {
        const { owner, agent, key: apiKey } = await agentWithKey(a);
        const stream = await openSse(`${b.url}/api/events?agent_id=${agent.id}`, { token: ADMIN_TOKEN });
        expect(stream.status).toBe(200);
        await sleep(200);
        const stop = await keepAsking(b, apiKey.api_key);
        ok(
          await a.api("DELETE", `/api/agents/${agent.id}`, { token: owner.token, headers: idempotency(key) }),
          "delete",
        );
        const answered = performance.now();
        const event = await stream.next(1_000);
        const feedMs = performance.now() - answered;
        await stop();
        stream.close();
        expect(event, `no event on B within 1 s of the delete's answer on A\n${b.logs()}`).toMatchObject({
          event: "agent.deleted",
          data: { agent_id: agent.id },
        });
        await refusedWithinOneSecond(b, apiKey.api_key, "the deleted agent's key");
        console.log(
          `[faults] after-commit: agent deleted on A (key: ${key ?? "none"}) → event on B in ${feedMs.toFixed(0)} ms`,
        );
      });
    }
  },
);
