/**
 * Two real server processes on one real Postgres: concurrent migrations at
 * start, mixed concurrent load through both with the invariants then checked
 * straight in the database, and one replica SIGKILLed mid-load (the SIGTERM
 * drain is replica-drain.test.ts). Postgres only: the embedded store is one
 * process by design.
 */
import { migrationFiles, migrationName } from "@agentex/migrations";
import { sql } from "kysely";
import { afterAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, startServer, type ApiResult, type ServerProcess } from "../process.ts";
import { checkInvariants } from "./invariants.ts";
import { Tally, prng, runBounded, shuffle } from "./load.ts";
import { deadlocksOnceIdle, skipWithoutPostgres, useScratchDatabase } from "./postgres.ts";
import { ok, replicaEnv } from "./replicas.ts";

const SKIP = skipWithoutPostgres("replicas", "run the multi-replica tests on real Postgres");

/** Statuses the lifecycle legitimately answers under contention; anything else fails the test. */
const EXPECTED = new Set([200, 404, 409, 412]);

describe.skipIf(SKIP)("replicas on one Postgres (skipped without DATABASE_URL)", { timeout: 150_000 }, () => {
  let a: ServerProcess | undefined;
  let b: ServerProcess | undefined;
  const scratch = useScratchDatabase(() => [a, b]);
  const tally = new Tally();
  let invariantsChecked = 0;

  afterAll(() => {
    console.log(
      `[faults] replicas: ${tally.total} requests driven, ${invariantsChecked} invariants checked, ` +
        `${tally.serverErrors().length} 5xx, statuses ${JSON.stringify(tally.byStatus())}`,
    );
  });

  const env = () => replicaEnv(scratch.url);

  /** Sends through replica `i % 2` and records the answer. */
  const send = (
    i: number,
    label: string,
    method: string,
    path: string,
    body?: unknown,
    token?: string,
  ): Promise<ApiResult> => {
    const server = i % 2 === 0 ? a! : b!;
    return server
      .api(method, path, { body, token: token ?? ADMIN_TOKEN })
      .then((res) => tally.record(label, server.name, res));
  };

  it("two replicas starting at once on an empty database both apply migrations safely", async () => {
    [a, b] = await Promise.all([
      startServer({ name: "replica-a", env: env() }),
      startServer({ name: "replica-b", env: env() }),
    ]);

    const applied = await sql<{
      name: string;
      n: number;
    }>`select name, count(*)::int as n from kysely_migration group by name`.execute(scratch.db);
    expect(applied.rows.map((r) => r.name).sort()).toEqual(migrationFiles().map(migrationName).sort());
    for (const row of applied.rows) expect(row.n, row.name).toBe(1);
    invariantsChecked += applied.rows.length + 1;

    // Both bootstrapped the same admin without tripping over each other.
    const admins = await sql<{
      n: number;
    }>`select count(*)::int as n from principals where name = 'admin'`.execute(scratch.db);
    expect(admins.rows[0]!.n).toBe(1);
    invariantsChecked++;
    for (const [i, server] of [a, b].entries()) {
      expect((await send(i, "readyz", "GET", "/readyz")).status, server.logs()).toBe(200);
      expect((await send(i, "me", "GET", "/api/me")).status, server.logs()).toBe(200);
    }
  });

  it("mixed concurrent load through both replicas keeps every invariant", async () => {
    expect(a && b, "replicas did not start").toBeTruthy();
    const rand = prng(0xa9e47);

    // Several admin callers: registerBuild of one name "from many callers".
    const tokens = [ADMIN_TOKEN];
    for (let i = 0; i < 2; i++) {
      const p = ok(
        await send(i, "principal", "POST", "/api/principals", {
          name: `caller-${i}`,
          kind: "user",
          admin: true,
        }),
        "principal",
      );
      tokens.push(p.token as string);
    }

    // 1. registerBuild of one new name from many callers at once, on both replicas.
    const raceNames = Array.from({ length: 5 }, (_, i) => `race-${i}`);
    const raceIds = new Map<string, Set<string>>(raceNames.map((n) => [n, new Set()]));
    const raceTasks = raceNames.flatMap((name) =>
      Array.from({ length: 24 }, (_, k) => async () => {
        const res = await send(
          k,
          "registerBuild(race)",
          "POST",
          "/api/agents/register-build",
          { name, description: `caller ${k}` },
          tokens[k % tokens.length],
        );
        if (res.status === 200) raceIds.get(name)!.add(res.body.id as string);
        return res;
      }),
    );
    const race = await runBounded(shuffle(raceTasks, rand), 48, 60_000);
    expect(race.skipped).toBe(0);
    for (const res of race.results) expect(res.status, JSON.stringify(res.body)).toBe(200);
    for (const name of raceNames) expect(raceIds.get(name)!.size, `ids handed out for ${name}`).toBe(1);

    // 2. Agents with several Ready deployments each (created, then registered by their pods).
    const promoNames = Array.from({ length: 5 }, (_, i) => `promo-${i}`);
    const agents = new Map<string, { id: string; deployments: string[] }>();
    for (const [i, name] of promoNames.entries()) {
      const agent = ok(
        await send(i, "registerBuild", "POST", "/api/agents/register-build", { name, description: "promo" }),
        "registerBuild",
      );
      const deployments: string[] = [];
      for (let d = 0; d < 6; d++) {
        const dep = ok(
          await send(d, "createDeployment", "POST", `/api/agents/${agent.id}/deployments`, {
            docker_image: `img:${d}`,
          }),
          "create",
        );
        ok(
          await send(d + 1, "register(deployment)", "POST", "/api/agents/register", {
            name,
            description: "promo",
            acp_url: `http://127.0.0.1:9/${name}/d${d}`,
            acp_type: "async",
            agent_id: agent.id,
            registration_metadata: { deployment_id: dep.id },
          }),
          "register deployment",
        );
        deployments.push(dep.id as string);
      }
      agents.set(name, { id: agent.id as string, deployments });
    }
    const churnNames = Array.from({ length: 4 }, (_, i) => `churn-${i}`);
    for (const [i, name] of churnNames.entries()) {
      ok(
        await send(i, "registerBuild", "POST", "/api/agents/register-build", { name, description: "churn" }),
        "churn",
      );
    }

    // 3. The storm: promotes of different Ready deployments of one agent, legacy
    //    registers interleaved with them, deployment-scoped re-registers,
    //    deployment deletes, an agent deleted under its promotes, and agent
    //    delete/re-create churn by name, all at once through both replicas.
    const storm: Array<() => Promise<ApiResult>> = [];
    let n = 0;
    for (let round = 0; round < 8; round++) {
      for (const name of promoNames) {
        const { id, deployments } = agents.get(name)!;
        for (let k = 0; k < 14; k++) {
          const dep = deployments[Math.floor(rand() * deployments.length)]!;
          const i = n++;
          storm.push(() => send(i, "promote", "POST", `/api/agents/${id}/deployments/${dep}/promote`));
        }
        for (let k = 0; k < 4; k++) {
          const i = n++;
          storm.push(() =>
            send(i, "register(legacy)", "POST", "/api/agents/register", {
              name,
              description: "promo",
              acp_url: `http://127.0.0.1:9/${name}/legacy-${round}-${k}`,
              acp_type: "sync",
            }),
          );
        }
        for (let k = 0; k < 3; k++) {
          const d = Math.floor(rand() * deployments.length);
          const i = n++;
          storm.push(() =>
            send(i, "register(deployment)", "POST", "/api/agents/register", {
              name,
              description: "promo",
              acp_url: `http://127.0.0.1:9/${name}/d${d}-r${round}`,
              acp_type: "async",
              agent_id: id,
              registration_metadata: { deployment_id: deployments[d] },
            }),
          );
        }
        if (round === 1 || round === 4) {
          // Deployments go away while they are being promoted (409 if production at that moment).
          const doomed = deployments[round === 1 ? 5 : 4];
          const i = n++;
          storm.push(() => send(i, "deleteDeployment", "DELETE", `/api/agents/${id}/deployments/${doomed}`));
        }
        if (round === 5 && name === "promo-4") {
          const i = n++;
          storm.push(() => send(i, "deleteAgent", "DELETE", `/api/agents/${id}`));
        }
        const i = n++;
        storm.push(() => send(i, "getAgent", "GET", `/api/agents/${id}`));
      }
      for (const name of churnNames) {
        for (let k = 0; k < 2; k++) {
          const i = n++;
          storm.push(() => send(i, "deleteAgentByName", "DELETE", `/api/agents/name/${name}`));
        }
        for (let k = 0; k < 3; k++) {
          const i = n++;
          storm.push(() =>
            send(
              i,
              "registerBuild(churn)",
              "POST",
              "/api/agents/register-build",
              { name, description: "churn" },
              tokens[k % tokens.length],
            ),
          );
        }
        const i = n++;
        storm.push(() =>
          send(i, "register(legacy churn)", "POST", "/api/agents/register", {
            name,
            description: "churn",
            acp_url: `http://127.0.0.1:9/${name}/${round}`,
            acp_type: "async",
          }),
        );
      }
      const i = n++;
      storm.push(() => send(i, "listAgents", "GET", "/api/agents?limit=100"));
    }
    const stormRun = await runBounded(shuffle(storm, rand), 32, 120_000);
    expect(stormRun.skipped, "storm ran out of time").toBe(0);

    const unexpected = tally.samples.filter((s) => !EXPECTED.has(s.status));
    expect(tally.serverErrors(), Tally.show(tally.serverErrors())).toHaveLength(0);
    expect(unexpected, Tally.show(unexpected)).toHaveLength(0);
    // The storm really contended: promotes and deletes did land.
    const promoted = tally.samples.filter((s) => s.label === "promote" && s.status === 200).length;
    expect(promoted).toBeGreaterThan(50);

    invariantsChecked += await checkInvariants(scratch.db);

    // registerBuild race: one row per name, ever, and it is the one everybody got.
    for (const name of raceNames) {
      const rows = await scratch.db
        .selectFrom("agents")
        .select(["id", "status"])
        .where("name", "=", name)
        .execute();
      expect(rows, name).toHaveLength(1);
      expect(rows[0]!.id).toBe([...raceIds.get(name)!][0]);
      invariantsChecked++;
    }
  });

  it("a replica SIGKILLed mid-load: the other keeps serving, every acknowledged write is present", async () => {
    expect(a && b, "replicas did not start").toBeTruthy();
    const target = agents0(
      await scratch.db
        .selectFrom("agents")
        .select(["id"])
        .where("name", "=", "promo-0")
        .where("status", "<>", "Deleted")
        .execute(),
    );
    const acked = {
      agents: new Map<string, string>(),
      registered: new Map<string, string>(),
      deployments: new Set<string>(),
    };
    let killedAt = -1;
    let completed = 0;
    const local = new Tally();

    const tasks = Array.from({ length: 360 }, (_, i) => async () => {
      const server = i % 2 === 0 ? a! : b!;
      const when = killedAt < 0 ? "before" : "after";
      let res: ApiResult;
      let label: string;
      if (i % 3 === 0) {
        label = "createDeployment";
        res = await server.api("POST", `/api/agents/${target}/deployments`, {
          body: { docker_image: `kill:${i}` },
        });
        if (res.status === 200) acked.deployments.add(res.body.id as string);
      } else if (i % 3 === 1) {
        label = "registerBuild";
        res = await server.api("POST", "/api/agents/register-build", {
          body: { name: `kill-${i}`, description: "k" },
        });
        if (res.status === 200) acked.agents.set(res.body.id as string, `kill-${i}`);
      } else {
        label = "register(legacy)";
        res = await server.api("POST", "/api/agents/register", {
          body: {
            name: `kill-reg-${i}`,
            description: "k",
            acp_url: `http://127.0.0.1:9/k/${i}`,
            acp_type: "async",
          },
        });
        if (res.status === 200) acked.registered.set(res.body.id as string, `kill-reg-${i}`);
      }
      tally.record(label, server.name, res);
      local.record(`${label} (${when} kill)`, server.name, res);
      if (++completed === 100) {
        killedAt = Date.now();
        b!.kill("SIGKILL");
      }
      return res;
    });
    const run = await runBounded(tasks, 16, 90_000);
    expect(run.skipped).toBe(0);
    expect(killedAt).toBeGreaterThan(0);
    expect(await b!.exited).toEqual({ code: null, signal: "SIGKILL" });

    // The survivor answered everything, before and after; the victim failed only by vanishing.
    const fromA = (s: { server: string }) => s.server === a!.name;
    expect(
      local.samples.filter((s) => fromA(s) && s.status !== 200),
      Tally.show(local.samples.filter((s) => fromA(s) && s.status !== 200)),
    ).toHaveLength(0);
    const victimBad = local.samples.filter((s) => !fromA(s) && s.status !== 200 && s.status !== 0);
    expect(victimBad, Tally.show(victimBad)).toHaveLength(0);
    const survivorAfter = local.samples.filter((s) => fromA(s) && s.label.includes("after kill")).length;
    expect(survivorAfter, "survivor served after the kill").toBeGreaterThan(50);
    expect((await a!.api("GET", "/readyz")).status).toBe(200);

    // Every acknowledged write is in the database, whole.
    for (const [id, name] of [...acked.agents, ...acked.registered]) {
      const row = await scratch.db
        .selectFrom("agents")
        .select(["name", "status"])
        .where("id", "=", id)
        .executeTakeFirst();
      expect(row, `acknowledged agent ${name} missing`).toMatchObject({ name });
      expect(row!.status).not.toBe("Deleted");
      invariantsChecked++;
    }
    for (const id of acked.registered.keys()) {
      const key = await scratch.db
        .selectFrom("agent_api_keys")
        .select("id")
        .where("agent_id", "=", id)
        .where("api_key_type", "=", "internal")
        .executeTakeFirst();
      expect(key, `registered agent ${id} has no internal key`).toBeTruthy();
      invariantsChecked++;
    }
    for (const id of acked.deployments) {
      const row = await scratch.db
        .selectFrom("deployments")
        .select(["agent_id"])
        .where("id", "=", id)
        .executeTakeFirst();
      expect(row, `acknowledged deployment ${id} missing`).toMatchObject({ agent_id: target });
      invariantsChecked++;
    }
    invariantsChecked += await checkInvariants(scratch.db);
    console.log(
      `[faults] SIGKILL: ${local.total} requests, acknowledged ${acked.agents.size + acked.registered.size} agents and ` +
        `${acked.deployments.size} deployments (all present); by status ${JSON.stringify(local.byStatus())}`,
    );
  });

  it("Postgres reported no deadlock during the whole run (lock order, not just the retry, prevents them)", async () => {
    // Backends flush their statistics when they exit: stop the replica still
    // serving and close this test's own pool too, then watch the scratch
    // database from the admin database until every session of it is gone.
    await Promise.all([a?.stop(), b?.stop()]);
    await scratch.db.destroy();
    const { sessionsGone, deadlocks } = await deadlocksOnceIdle(scratch.url);
    expect(sessionsGone, "sessions on the scratch database still open").toBe(true);
    expect(deadlocks).toBe(0);
    invariantsChecked++;
  });
});

function agents0(rows: Array<{ id: string }>): string {
  if (!rows[0]) throw new Error("agent promo-0 missing");
  return rows[0].id;
}
