/**
 * The embedded store (PGlite in a data directory) keeps what it acknowledged:
 * across a clean restart (SIGTERM, exit 0), and across SIGKILL of the process
 * in the middle of writes; the directory a killed process leaves behind opens
 * cleanly on the next start. Runs on every store configuration: it needs no
 * Postgres. (What it does not cover, power loss, is in docs/embedded-durability.md.)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectEmbedded } from "@agentex/db";
import { sql } from "kysely";
import { afterAll, describe, expect, it } from "vitest";
import { sleep, startServer, type ApiResult, type ServerProcess } from "../process.ts";
import { Tally, runBounded } from "./load.ts";

const SHUTDOWN_TIMEOUT_MS = 20_000;

describe("embedded store durability (PGlite data dir, real server processes)", { timeout: 150_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "agentex-embedded-"));
  const env = { AGENTEX_DATA_DIR: dir, AGENTEX_SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) };
  const servers: ServerProcess[] = [];
  const tally = new Tally();
  /** name -> id of every write the server acknowledged, across all the restarts. */
  const acked = new Map<string, string>();
  let checks = 0;

  const start = async (name: string) => {
    const server = await startServer({ name, env, readyTimeoutMs: 90_000 });
    servers.push(server);
    expect((await server.api("GET", "/readyz", { token: null })).status, server.logs()).toBe(200);
    return server;
  };

  const record = (server: ServerProcess, label: string, res: ApiResult) =>
    tally.record(label, server.name, res);

  /** Every acknowledged agent is there, with the id it was acknowledged with, and whole (it has its owner). */
  const expectAllAcknowledged = async (server: ServerProcess) => {
    for (const [name, id] of acked) {
      const res = record(server, "getByName", await server.api("GET", `/api/agents/name/${name}`));
      expect(res.status, `acknowledged agent ${name} is gone\n${server.logs()}`).toBe(200);
      expect(res.body.id).toBe(id);
      const grants = record(server, "grants", await server.api("GET", `/api/agents/${id}/grants`));
      expect(grants.status).toBe(200);
      expect(
        (grants.body as Array<{ role: string }>).some((g) => g.role === "owner"),
        `${name} lost its owner`,
      ).toBe(true);
      checks += 2;
    }
  };

  afterAll(async () => {
    for (const s of servers) s.kill("SIGKILL");
    await Promise.all(servers.map((s) => s.exited));
    rmSync(dir, { recursive: true, force: true });
    console.log(
      `[faults] embedded durability: ${tally.total} requests, ${acked.size} acknowledged writes, ${checks} checks, ` +
        `statuses ${JSON.stringify(tally.byStatus())}`,
    );
  });

  it("data survives a clean restart: SIGTERM exits 0 and the next start sees everything", async () => {
    const first = await start("embedded-1");
    for (let i = 0; i < 10; i++) {
      const res = record(
        first,
        "registerBuild",
        await first.api("POST", "/api/agents/register-build", {
          body: { name: `clean-${i}`, description: "c" },
        }),
      );
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      acked.set(`clean-${i}`, res.body.id);
    }
    // A promoted deployment too: the cutover is several rows in one transaction.
    const agentId = acked.get("clean-0")!;
    const dep = record(
      first,
      "createDeployment",
      await first.api("POST", `/api/agents/${agentId}/deployments`, { body: { docker_image: "img:test" } }),
    );
    const reg = record(
      first,
      "register",
      await first.api("POST", "/api/agents/register", {
        body: {
          name: "clean-0",
          description: "c",
          acp_url: "http://127.0.0.1:9/clean-0",
          acp_type: "async",
          agent_id: agentId,
          registration_metadata: { deployment_id: dep.body.id },
        },
      }),
    );
    const promoted = record(
      first,
      "promote",
      await first.api("POST", `/api/agents/${agentId}/deployments/${dep.body.id}/promote`),
    );
    expect([dep.status, reg.status, promoted.status]).toEqual([200, 200, 200]);

    first.kill("SIGTERM");
    const exit = await Promise.race([
      first.exited,
      sleep(SHUTDOWN_TIMEOUT_MS + 5_000).then(() => "hung" as const),
    ]);
    expect(exit, first.logs()).toEqual({ code: 0, signal: null });

    const second = await start("embedded-2");
    await expectAllAcknowledged(second);
    const agent = record(second, "get", await second.api("GET", `/api/agents/${agentId}`));
    expect(agent.body).toMatchObject({
      production_deployment_id: dep.body.id,
      acp_url: "http://127.0.0.1:9/clean-0",
      status: "Ready",
    });
    checks++;
  });

  it("a second server on the same data directory is refused while the first runs (it would corrupt the store)", async () => {
    const running = servers.at(-1)!;
    expect(running.child.exitCode).toBeNull();
    const second = startServer({ name: "embedded-intruder", env, readyTimeoutMs: 60_000 });
    await expect(second).rejects.toThrow(
      /exited before it was ready[\s\S]*in use by another agentex process/,
    );
    // The owner was not disturbed.
    const res = record(
      running,
      "registerBuild",
      await running.api("POST", "/api/agents/register-build", {
        body: { name: "still-mine", description: "s" },
      }),
    );
    expect(res.status).toBe(200);
    acked.set("still-mine", res.body.id);
    await expectAllAcknowledged(running);
  });

  for (const round of [1, 2]) {
    it(`an acknowledged write survives SIGKILL mid-write, and the store left behind opens cleanly (round ${round})`, async () => {
      const server =
        servers.at(-1)!.child.exitCode === null ? servers.at(-1)! : await start(`embedded-pre-${round}`);
      let killed = false;
      let ackedHere = 0;
      let afterKill = 0;
      const tasks = Array.from({ length: 400 }, (_, i) => async () => {
        // A few requests after the kill are enough to see it gone.
        if (killed && ++afterKill > 8) return null;
        const name = `kill-${round}-${i}`;
        const res = record(
          server,
          killed ? "registerBuild (after kill)" : "registerBuild",
          await server.api("POST", "/api/agents/register-build", {
            body: { name, description: "k" },
            timeoutMs: 20_000,
          }),
        );
        if (res.status === 200) {
          acked.set(name, res.body.id);
          // Kill while other writes are still in flight (4 workers).
          if (++ackedHere === 40) {
            killed = true;
            server.kill("SIGKILL");
          }
        } else {
          // Before the kill everything succeeds; after it, requests only fail by finding nobody there.
          expect(killed, `${res.status} before the kill: ${JSON.stringify(res.body)}`).toBe(true);
          expect(res.status).toBe(0);
        }
        return res;
      });
      const run = await runBounded(tasks, 4, 60_000);
      expect(run.skipped).toBe(0);
      expect(killed).toBe(true);
      expect(await server.exited).toEqual({ code: null, signal: "SIGKILL" });

      // The next process opens the directory the killed one left, and has every acknowledged write.
      const next = await start(`embedded-after-kill-${round}`);
      await expectAllAcknowledged(next);
      const fresh = record(
        next,
        "registerBuild",
        await next.api("POST", "/api/agents/register-build", {
          body: { name: `after-kill-${round}`, description: "a" },
        }),
      );
      expect(fresh.status).toBe(200);
      acked.set(`after-kill-${round}`, fresh.body.id);
    });
  }

  it("after a clean stop, the data directory holds every acknowledged write (read straight from the store)", async () => {
    const last = servers.at(-1)!;
    if (last.child.exitCode === null) {
      last.kill("SIGTERM");
      const exit = await Promise.race([
        last.exited,
        sleep(SHUTDOWN_TIMEOUT_MS + 5_000).then(() => "hung" as const),
      ]);
      expect(exit, last.logs()).toEqual({ code: 0, signal: null });
    }
    const store = await connectEmbedded(dir);
    try {
      const rows = await sql<{
        id: string;
        name: string;
      }>`select id, name from agents where status <> 'Deleted'`.execute(store.db);
      const byName = new Map(rows.rows.map((r) => [r.name, r.id]));
      for (const [name, id] of acked) {
        expect(byName.get(name), `${name} not in the data directory`).toBe(id);
        checks++;
      }
      const dupes = await sql<{
        n: number;
      }>`select count(*)::int as n from (select name from agents where status <> 'Deleted' group by name having count(*) > 1) d`.execute(
        store.db,
      );
      expect(dupes.rows[0]!.n).toBe(0);
      checks++;
    } finally {
      await store.close();
    }
  });
});
