import { TEST_STORE } from "@agentex/db/testing";
import { liveLease } from "@agentex/core";
import { afterEach, describe, expect, it } from "vitest";
import { Workers, type Worker } from "@agentex/workers";
import { uniqueName, useFixture } from "../../api/test/helpers.ts";
import { until } from "./until.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Log lines a runner wrote, as `level message`. */
function recorder() {
  const lines: string[] = [];
  const at = (level: string) => (_obj: object, msg?: string) => void lines.push(`${level} ${msg ?? ""}`);
  return { lines, log: { info: at("info"), warn: at("warn"), error: at("error") } };
}

describe(`the workers runner (${TEST_STORE})`, () => {
  const f = useFixture();
  const running: Workers[] = [];
  afterEach(async () => {
    for (const w of running.splice(0)) await w.stop();
  });

  function runner(log?: ReturnType<typeof recorder>["log"]) {
    const workers = new Workers({
      db: f.db.db,
      subscribe: (c, h) => f.db.subscribe(c, h),
      notify: (c, p) => f.db.notify(c, p),
      ...(log ? { log } : {}),
    });
    running.push(workers);
    return workers;
  }

  it("starts workers in order and stops them in reverse; a start that fails stops the ones started and is thrown", async () => {
    const calls: string[] = [];
    const worker = (name: string, failStart = false): Worker => ({
      name,
      async start() {
        await sleep(5);
        if (failStart) throw new Error(`${name} cannot start`);
        calls.push(`start ${name}`);
      },
      halt: () => void calls.push(`halt ${name}`),
      async stop() {
        await sleep(5);
        calls.push(`stop ${name}`);
      },
    });
    const ok = runner().add(worker("a")).add(worker("b")).add(worker("c"));
    await ok.start();
    await ok.stop();
    expect(calls).toEqual([
      "start a",
      "start b",
      "start c",
      "halt c",
      "halt b",
      "halt a",
      "stop c",
      "stop b",
      "stop a",
    ]);

    calls.length = 0;
    const broken = runner().add(worker("a")).add(worker("b", true)).add(worker("c"));
    await expect(broken.start()).rejects.toThrow("b cannot start");
    expect(calls).toEqual(["start a", "halt a", "stop a"]);
  });

  it("ticks on its interval, never two at once; a failing tick is logged and counted and the next one comes", async () => {
    const { lines, log } = recorder();
    let inFlight = 0;
    let most = 0;
    let n = 0;
    const ticking: Worker = {
      name: "ticking",
      intervalMs: 20,
      async tick() {
        inFlight++;
        most = Math.max(most, inFlight);
        n++;
        await sleep(40); // longer than the interval
        inFlight--;
        if (n % 2 === 0) throw new Error("every other tick fails");
      },
    };
    const workers = runner(log).add(ticking);
    await workers.start();
    await until(() => n >= 6);
    await workers.stop();
    const [stats] = workers.stats();
    expect(most).toBe(1);
    expect(stats!.ticks + stats!.failures).toBe(n);
    expect(stats!.failures).toBe(Math.floor(n / 2));
    expect(stats!.lastError).toBe("every other tick fails");
    expect(lines.filter((l) => l === "warn workers: ticking: tick failed")).toHaveLength(stats!.failures);
    // Stopped means stopped.
    await sleep(100);
    expect(n).toBe(stats!.ticks + stats!.failures);
  });

  it("stop waits for the tick in progress; a worker that overruns the deadline is logged and the others still stop", async () => {
    const { lines, log } = recorder();
    const order: string[] = [];
    let release!: () => void;
    const stuck: Worker = {
      name: "stuck",
      stop: () => new Promise<void>((resolve) => (release = resolve)),
    };
    let ticked = false;
    const slow: Worker = {
      name: "slow",
      intervalMs: 10,
      async tick() {
        await sleep(150);
        ticked = true;
      },
      stop: () => Promise.resolve(void order.push(`slow stopped after its tick: ${ticked}`)),
    };
    const first: Worker = { name: "first", stop: () => Promise.resolve(void order.push("first stopped")) };
    const workers = runner(log).add(first).add(stuck).add(slow);
    await workers.start();
    await sleep(50); // slow's tick is under way
    const began = Date.now();
    await workers.stop(Date.now() + 400);
    const took = Date.now() - began;
    release();
    expect(order).toEqual(["slow stopped after its tick: true", "first stopped"]);
    expect(took).toBeGreaterThanOrEqual(350);
    expect(took).toBeLessThan(1_500);
    expect(lines).toContain("warn workers: stuck: left running");
    expect(workers.stats().find((s) => s.name === "stuck")!.failures).toBe(1);
  });

  it("a singleton ticks only on the runner that holds its lease; stopping hands it over at once, dying hands it over after its ttl", async () => {
    const name = uniqueName("job");
    const ttlMs = 1_500;
    const job = () => {
      const w = {
        name: "job",
        intervalMs: 20,
        lease: { name, ttlMs },
        ticks: 0,
        tick: () => Promise.resolve(void w.ticks++),
      };
      return w;
    };
    const [ja, jb, jc] = [job(), job(), job()];
    const a = runner().add(ja);
    const b = runner().add(jb);
    await a.start();
    await b.start();
    expect(a.holds(name)).toBe(true);
    expect(b.holds(name)).toBe(false);
    expect((await liveLease(f.db.db, name))?.owner).toBe(a.owner);
    await sleep(300);
    expect(ja.ticks).toBeGreaterThan(3);
    expect(jb.ticks).toBe(0);

    // A stops: released, announced, and B takes it well inside a renewal period (ttl / 3).
    await a.stop();
    const handover = await until(() => b.holds(name));
    expect(handover).toBeLessThan(ttlMs / 3);
    expect((await liveLease(f.db.db, name))?.owner).toBe(b.owner);
    await until(() => jb.ticks > 0);

    // B dies: halted without stopping, its lease is neither renewed nor released.
    const c = runner().add(jc);
    await c.start();
    expect(c.holds(name)).toBe(false);
    b.halt();
    const died = Date.now();
    const ticksAtDeath = jb.ticks;
    await until(() => c.holds(name), ttlMs * 3);
    const takeover = Date.now() - died;
    expect(takeover).toBeGreaterThan(ttlMs / 2);
    expect(takeover).toBeLessThan(ttlMs + ttlMs / 3 + 500);
    await until(() => jc.ticks > 0);
    expect(jb.ticks).toBe(ticksAtDeath);
  });

  it("a holder that loses its lease stops ticking, and says so", async () => {
    const { lines, log } = recorder();
    const name = uniqueName("job");
    const w = {
      name: "job",
      intervalMs: 10,
      lease: { name, ttlMs: 300 },
      ticks: 0,
      tick: () => Promise.resolve(void w.ticks++),
    };
    const a = runner(log).add(w);
    await a.start();
    expect(a.holds(name)).toBe(true);
    // Someone else took it (as after a long pause of this process past the expiry).
    await f.db.db
      .updateTable("worker_leases")
      .set({ owner: "someone-else", expires_at: new Date(Date.now() + 60_000) })
      .where("name", "=", name)
      .execute();
    await until(() => !a.holds(name), 2_000);
    const ticks = w.ticks;
    await sleep(150);
    expect(w.ticks).toBe(ticks);
    expect(lines).toContain("warn workers: lease lost: another replica holds it");
    // Its stop does not release what it no longer holds.
    await a.stop();
    expect((await liveLease(f.db.db, name))?.owner).toBe("someone-else");
  });
});
