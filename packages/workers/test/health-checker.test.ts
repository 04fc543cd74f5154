import { randomUUID } from "node:crypto";
import { TEST_STORE } from "@agentex/db/testing";
import { afterEach, describe, expect, it } from "vitest";
import { HealthChecker, Workers } from "@agentex/workers";
import { uniqueName, useFixture } from "../../api/test/helpers.ts";
import { registerInput } from "../../api/test/lifecycle-helpers.ts";
import { HealthTarget } from "@agentex/testing";

const INTERVAL = 300;
const TIMEOUT = 250;
const policy = { path: "/healthz", intervalMs: INTERVAL, timeoutMs: TIMEOUT, failures: 2, successes: 2 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe(`health checker replicas (${TEST_STORE})`, () => {
  const f = useFixture();
  const targets: HealthTarget[] = [];
  const running: Workers[] = [];
  const made: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const w of running.splice(0)) await w.stop();
    for (const t of targets.splice(0)) await t.stop();
    // Deleted agents are never probed: one test's agents stay out of the next.
    for (const remove of made.splice(0)) await remove();
  });

  /** `n` Ready agents, each registered at a target of its own. */
  async function agents(n: number, holdMs: number) {
    const { principal } = await f.principal();
    const c = f.as(principal);
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const t = await new HealthTarget().start();
      t.holdMs = holdMs;
      targets.push(t);
      const { id } = await c.agents.register(registerInput(uniqueName(), { acp_url: t.url }));
      made.push(() => c.agents.delete({ agent_id: id }));
      ids.push(id);
    }
    return ids;
  }

  const leasesOf = async (ids: string[]) =>
    (await f.db.db.selectFrom("agents").select("health_lease").where("id", "in", ids).execute()).map(
      (r) => r.health_lease,
    );

  it("two replicas ticking side by side: each target is probed by one at a time, once per interval", async () => {
    await agents(6, 100);
    for (let i = 0; i < 2; i++) {
      const workers = new Workers({ db: f.db.db });
      workers.add(new HealthChecker({ db: f.db.db, ...policy, owner: workers.owner }));
      running.push(workers);
      await workers.start();
    }
    const started = Date.now();
    await sleep(INTERVAL * 6);
    const elapsed = Date.now() - started;
    for (const t of targets) {
      expect(t.maxInFlight, `target ${t.port}`).toBe(1);
      expect(t.hits, `hits on ${t.port} in ${elapsed} ms`).toBeLessThanOrEqual(
        Math.ceil(elapsed / INTERVAL) + 1,
      );
      expect(t.hits).toBeGreaterThanOrEqual(3);
    }
  });

  it("a checker that stops frees the targets it claimed but never probed: another claims them at once", async () => {
    const ids = await agents(4, 10);
    const a = new HealthChecker({ db: f.db.db, ...policy, owner: randomUUID() });
    const b = new HealthChecker({ db: f.db.db, ...policy, owner: randomUUID() });
    // Halted while its claim is in flight: it holds the targets and will not probe them.
    const round = a.round();
    a.halt();
    expect(await round).toBe(4);
    expect(await leasesOf(ids)).toEqual(ids.map(() => a.owner));
    for (const t of targets) expect(t.hits).toBe(0);
    // Leases still live: nobody else may probe them...
    expect(await b.round()).toBe(0);
    // ...until A stops.
    await a.stop();
    expect(await leasesOf(ids)).toEqual(ids.map(() => null));
    expect(await b.round()).toBe(4);
    for (const t of targets) expect(t.hits).toBe(1);
    expect(await leasesOf(ids)).toEqual(ids.map(() => null)); // recorded, and released by the recording
  });
});
