/**
 * The change feed across two real server processes on one real Postgres:
 * events cross replicas through LISTEN/NOTIFY (the poll fallback is set far
 * beyond the deadlines checked here), resume by Last-Event-ID on the other
 * replica, stay private, reach 200 subscribers in order during a promote
 * storm. (The health checks across replicas: workers-replicas.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, sleep, startServer, type ServerProcess } from "../process.ts";
import { openSse, type SseStream } from "../sse.ts";
import { skipWithoutPostgres, useScratchDatabase } from "./postgres.ts";
import { ok } from "./replicas.ts";

const SKIP = skipWithoutPostgres("feed-replicas", "run the multi-replica feed tests on real Postgres");

describe.skipIf(SKIP)(
  "change feed across replicas (skipped without DATABASE_URL)",
  { timeout: 180_000 },
  () => {
    let a: ServerProcess;
    let b: ServerProcess;
    const scratch = useScratchDatabase(() => [a, b]);
    const streams: SseStream[] = [];

    // Health checks stay off (as startServer leaves them): the feed tests must not see health events.
    const env = () =>
      scratch.env({
        AGENTEX_EVENTS_POLL_MS: "600000",
        AGENTEX_EVENTS_HEARTBEAT_MS: "2000",
        AGENTEX_EVENTS_MAX_PER_PRINCIPAL: "300",
        AGENTEX_EVENTS_MAX_LAG: "10000",
      });

    beforeAll(async () => {
      a = await startServer({ name: "feed-a", env: env() });
      b = await startServer({ name: "feed-b", env: env() });
    });

    afterAll(() => {
      for (const s of streams) s.close();
    });

    const sse = async (
      server: ServerProcess,
      query = "",
      opts: { token?: string; lastEventId?: string } = {},
    ) => {
      const s = await openSse(`${server.url}/api/events${query}`, {
        token: opts.token ?? ADMIN_TOKEN,
        ...(opts.lastEventId ? { lastEventId: opts.lastEventId } : {}),
      });
      streams.push(s);
      if (s.status !== 200) throw new Error(`subscribe: ${s.status} ${JSON.stringify(s.body)}`);
      return s;
    };

    /** An agent with `n` Ready deployments, created on `server`. */
    async function agentWithDeployments(server: ServerProcess, n: number, token = ADMIN_TOKEN) {
      const name = `feed-${Math.random().toString(16).slice(2, 10)}`;
      const agent = ok(
        await server.api("POST", "/api/agents/register-build", { token, body: { name, description: "" } }),
        "agent",
      );
      const deps: string[] = [];
      for (let i = 0; i < n; i++) {
        const dep = ok(
          await server.api("POST", `/api/agents/${agent.id}/deployments`, {
            token,
            body: { docker_image: "img:test" },
          }),
          "deployment",
        );
        ok(
          await server.api("POST", "/api/agents/register", {
            token,
            body: {
              name,
              description: "",
              acp_url: `http://127.0.0.1:1/${name}/${i}`,
              acp_type: "async",
              registration_metadata: { deployment_id: dep.id },
            },
          }),
          "register",
        );
        deps.push(dep.id);
      }
      return { agent, deps };
    }

    it("a subscriber on A sees a promote done on B within 1 s", async () => {
      const { agent, deps } = await agentWithDeployments(b, 2);
      const stream = await sse(a, `?agent_id=${agent.id}`);
      await sleep(200);
      const latencies: number[] = [];
      for (const dep of [deps[0]!, deps[1]!, deps[0]!]) {
        const started = performance.now();
        ok(await b.api("POST", `/api/agents/${agent.id}/deployments/${dep}/promote`), "promote");
        const msg = await stream.next(1_000);
        latencies.push(Math.round(performance.now() - started));
        expect(msg, `no event on A within 1 s of the promote on B\n${a.logs()}`).toMatchObject({
          event: "production.changed",
          data: { agent_id: agent.id, deployment_id: dep },
        });
      }
      console.log(
        `[faults] feed: promote on B → event on A in ${latencies.join(", ")} ms (promote call included)`,
      );
      for (const ms of latencies) expect(ms).toBeLessThan(1_000);
      stream.close();
    });

    it("a reconnect with Last-Event-ID, on the other replica, loses nothing", async () => {
      const { agent, deps } = await agentWithDeployments(a, 3);
      const first = await sse(a, `?agent_id=${agent.id}`);
      await sleep(200);
      ok(await a.api("POST", `/api/agents/${agent.id}/deployments/${deps[0]}/promote`), "promote");
      const [seen] = await first.take(1);
      first.close();
      // While disconnected: more changes, through both replicas.
      ok(await b.api("POST", `/api/agents/${agent.id}/deployments/${deps[1]}/promote`), "promote");
      const extra = ok(
        await a.api("POST", `/api/agents/${agent.id}/deployments`, { body: { docker_image: "img:test" } }),
        "create",
      );
      ok(await b.api("DELETE", `/api/agents/${agent.id}/deployments/${extra.id}`), "delete");
      ok(await a.api("POST", `/api/agents/${agent.id}/deployments/${deps[2]}/promote`), "promote");
      const resumed = await sse(b, `?agent_id=${agent.id}`, { lastEventId: seen!.id! });
      const replay = await resumed.take(4);
      expect(replay.map((m) => m.event)).toEqual([
        "production.changed",
        "deployment.created",
        "deployment.deleted",
        "production.changed",
      ]);
      expect(replay.map((m) => m.data.data.to_deployment_id ?? m.data.deployment_id)).toEqual([
        deps[1],
        extra.id,
        extra.id,
        deps[2],
      ]);
      const ids = [seen!, ...replay].map((m) => Number(m.id));
      expect([...ids].sort((x, y) => x - y)).toEqual(ids);
      resumed.close();
    });

    it("a viewer never sees another principal's agents", async () => {
      const owner = ok(
        await a.api("POST", "/api/principals", {
          body: { name: "feed-owner", kind: "user", can_create_agents: true },
        }),
        "owner",
      );
      const viewer = ok(
        await a.api("POST", "/api/principals", {
          body: { name: "feed-viewer", kind: "user", can_create_agents: true },
        }),
        "viewer",
      );
      const onViewerA = await sse(a, "", { token: viewer.token });
      const onViewerB = await sse(b, "", { token: viewer.token });
      await sleep(200);
      const secret = await agentWithDeployments(b, 1, owner.token);
      const shared = await agentWithDeployments(a, 1, owner.token);
      ok(
        await a.api("PUT", `/api/agents/${shared.agent.id}/grants/${viewer.id}`, {
          token: owner.token,
          body: { role: "viewer" },
        }),
        "grant",
      );
      ok(
        await b.api("POST", `/api/agents/${shared.agent.id}/deployments/${shared.deps[0]}/promote`, {
          token: owner.token,
        }),
        "promote",
      );
      ok(
        await a.api("POST", `/api/agents/${secret.agent.id}/deployments/${secret.deps[0]}/promote`, {
          token: owner.token,
        }),
        "promote",
      );
      const own = await agentWithDeployments(b, 0, viewer.token);
      for (const stream of [onViewerA, onViewerB]) {
        const got = await stream.take(2, 5_000);
        expect(got.map((m) => [m.event, m.data.agent_id])).toEqual([
          ["production.changed", shared.agent.id],
          ["agent.created", own.agent.id],
        ]);
        const more = await stream.next(500);
        expect(more).toBeNull();
      }
    });

    it("200 concurrent subscribers, during a promote storm, all receive every event in order", async () => {
      const { agent, deps } = await agentWithDeployments(a, 4);
      const subscribers = await Promise.all(
        Array.from({ length: 200 }, (_, i) => sse(i % 2 ? b : a, `?agent_id=${agent.id}`)),
      );
      await sleep(500);
      const marker = Number(
        (await scratch.db.selectFrom("event_counter").select("last_id").executeTakeFirstOrThrow()).last_id,
      );
      const promotes = Array.from({ length: 60 }, (_, i) =>
        (i % 2 ? b : a).api("POST", `/api/agents/${agent.id}/deployments/${deps[(i * 7) % 4]}/promote`),
      );
      const answers = await Promise.all(promotes);
      for (const r of answers) expect(r.status).toBe(200);
      const expected = (
        await scratch.db
          .selectFrom("events")
          .select(["id", "type"])
          .where("id", ">", marker)
          .where("agent_id", "=", agent.id)
          .orderBy("id")
          .execute()
      ).map((r) => String(r.id));
      expect(expected.length).toBeGreaterThan(10);
      const received = await Promise.all(subscribers.map((s) => s.take(expected.length, 20_000)));
      received.forEach((got, i) => {
        const other = got.find((m) => m.id === null);
        expect(other, `subscriber ${i} on ${i % 2 ? "B" : "A"}: ${JSON.stringify(other)}`).toBeUndefined();
        expect(
          got.map((m) => m.id),
          `subscriber ${i} on ${i % 2 ? "B" : "A"}`,
        ).toEqual(expected);
      });
      console.log(
        `[faults] feed: 200 subscribers × ${expected.length} events from ${answers.length} concurrent promotes, all in order`,
      );
      for (const s of subscribers) s.close();
    });
  },
);
