import { TEST_STORE } from "@agentex/db/testing";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCaller, createContextInner } from "@agentex/api";
import { FeedHub, FEED_CHANNEL, Workers } from "@agentex/workers";
import { HEARTBEAT, type ChangeEvent, type Caller } from "@agentex/core";
import { SECRET, rejection, uniqueName, useFixture } from "../../api/test/helpers.ts";
import { readyDeployment, registerInput } from "../../api/test/lifecycle-helpers.ts";

type Item = ChangeEvent | typeof HEARTBEAT;

/** Reads events from a stream until `until` says stop (or `ms` pass). */
async function collect(
  stream: AsyncGenerator<Item>,
  until: (seen: ChangeEvent[]) => boolean,
  ms = 5_000,
): Promise<ChangeEvent[]> {
  const seen: ChangeEvent[] = [];
  const deadline = Date.now() + ms;
  while (!until(seen)) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    const next = await Promise.race([
      stream.next(),
      new Promise<null>((r) => setTimeout(() => r(null), left)),
    ]);
    if (next === null || next.done) break;
    if (next.value !== HEARTBEAT) seen.push(next.value);
  }
  return seen;
}

describe(`change feed (${TEST_STORE})`, () => {
  const f = useFixture();
  let hub: FeedHub;
  let workers: Workers | undefined;

  beforeAll(async () => {
    hub = new FeedHub({
      db: f.db.db,
      subscribe: (channel, handler) => f.db.subscribe(channel, handler),
      maxLag: 50,
      maxPerPrincipal: 3,
      heartbeatMs: 300,
      pollMs: 60_000, // wake-ups must come from NOTIFY, not the poll
      ringSize: 16,
    });
    workers = new Workers({ db: f.db.db }).add(hub);
    await workers.start();
  });
  afterAll(async () => {
    await workers?.stop();
  });

  /** A caller whose commits NOTIFY the hub's channel, as the server's are. */
  function caller(principal: Caller, signal?: AbortSignal) {
    return createCaller(
      createContextInner({
        db: f.db.db,
        secretKey: SECRET,
        principal,
        feed: hub,
        events: { onFeed: (id) => void f.db.notify(FEED_CHANNEL, String(id)) },
      }),
      signal ? { signal } : {},
    );
  }

  /** `events.watch` through the router, unwrapped from tRPC's tracked envelopes; `close()` aborts it. */
  async function subscribe(principal: Caller, input: { agent_id?: string } = {}) {
    const abort = new AbortController();
    const iterable = await caller(principal, abort.signal).events.watch(input);
    const it = iterable[Symbol.asyncIterator]();
    return {
      async next(): Promise<ChangeEvent> {
        const r = await it.next();
        if (r.done) throw new Error("stream ended");
        const [id, data] = r.value as unknown as [string, ChangeEvent];
        expect(id).toBe(String(data.id));
        return data;
      },
      close: () => abort.abort(),
    };
  }

  it("writes each change to the outbox in its own transaction, in commit order, and nothing for a rolled-back one", async () => {
    const { principal } = await f.principal();
    const c = caller(principal);
    const before = await sql<{ last_id: number }>`select last_id from event_counter`.execute(f.db.db);
    const agent = await c.agents.registerBuild({ name: uniqueName(), description: "" });
    const dep = await readyDeployment(c, agent);
    await c.deployments.promote({ agent_id: agent.id, deployment_id: dep.id });
    await c.deployments.promote({ agent_id: agent.id, deployment_id: dep.id }); // no-op: no event
    const err = await rejection(
      c.agents.register(registerInput(uniqueName(), { registration_metadata: { deployment_id: dep.id } })),
    );
    expect(err.code).toBe("CONFLICT");
    const rows = await f.db.db
      .selectFrom("events")
      .selectAll()
      .where("id", ">", Number(before.rows[0]!.last_id))
      .orderBy("id")
      .execute();
    expect(rows.map((r) => r.type)).toEqual([
      "agent.created",
      "deployment.created",
      "deployment.ready",
      "production.changed",
    ]);
    expect(rows.map((r) => Number(r.id))).toEqual(
      rows.map((_, i) => Number(before.rows[0]!.last_id) + i + 1),
    );
    expect(rows[3]!.data).toMatchObject({
      from_deployment_id: null,
      to_deployment_id: dep.id,
      cause: "promote",
      status: "Ready",
    });
    expect(rows.every((r) => r.readers.includes(principal.id))).toBe(true);
  });

  it("streams live events in order, filtered to the agents each subscriber may read, re-checked as grants change", async () => {
    const owner = await f.principal();
    const viewer = await f.principal();
    const c = caller(owner.principal);
    const agentA = await c.agents.registerBuild({ name: uniqueName(), description: "" });
    const agentB = await c.agents.registerBuild({ name: uniqueName(), description: "" });
    await c.grants.set({ agent_id: agentA.id, principal_id: viewer.principal.id, role: "viewer" });

    const ownerStream = await subscribe(owner.principal);
    const viewerStream = await subscribe(viewer.principal);
    const ownerFirst = ownerStream.next(); // subscribes now
    const viewerFirst = viewerStream.next();
    await new Promise((r) => setTimeout(r, 100));
    const depA = await c.deployments.create({ docker_image: "img:test", agent_id: agentA.id });
    const depB = await c.deployments.create({ docker_image: "img:test", agent_id: agentB.id });
    // The viewer is given agent B now: events after the grant reach it, earlier ones never did.
    await c.grants.set({ agent_id: agentB.id, principal_id: viewer.principal.id, role: "viewer" });
    const depB2 = await c.deployments.create({ docker_image: "img:test", agent_id: agentB.id });
    await c.grants.revoke({ agent_id: agentA.id, principal_id: viewer.principal.id });
    const depA2 = await c.deployments.create({ docker_image: "img:test", agent_id: agentA.id });

    const ownerSeen = [await ownerFirst];
    const viewerSeen = [await viewerFirst];
    for (let i = 0; i < 3; i++) ownerSeen.push(await ownerStream.next());
    viewerSeen.push(await viewerStream.next());
    expect(ownerSeen.map((e) => e.deployment_id)).toEqual([depA.id, depB.id, depB2.id, depA2.id]);
    expect(viewerSeen.map((e) => e.deployment_id)).toEqual([depA.id, depB2.id]);
    const ids = ownerSeen.map((e) => e.id);
    expect([...ids].sort((x, y) => x - y)).toEqual(ids);
    // Nothing else reached the viewer (the revoked agent A's later event above all).
    const extra = await Promise.race([
      viewerStream.next(),
      new Promise((r) => setTimeout(() => r("none"), 500)),
    ]);
    expect(extra).toBe("none");
    ownerStream.close();
    viewerStream.close();
  });

  it("resumes after a given id without losing anything, and says so when it cannot", async () => {
    const { principal } = await f.principal();
    const c = caller(principal);
    const agent = await c.agents.registerBuild({ name: uniqueName(), description: "" });
    const marker = (await f.db.db.selectFrom("event_counter").select("last_id").executeTakeFirstOrThrow())
      .last_id;
    const created = [];
    for (let i = 0; i < 20; i++)
      created.push((await c.deployments.create({ docker_image: "img:test", agent_id: agent.id })).id);

    // 20 > ring size (16): the start of the replay comes from the database, the rest from memory.
    const stream = hub.watch({
      principal,
      lastEventId: Number(marker),
      reauthenticate: () => Promise.resolve(principal),
    });
    const seen = await collect(stream, (s) => s.length >= 20);
    await stream.return(undefined);
    expect(seen.map((e) => e.deployment_id)).toEqual(created);

    // Purged events cannot be replayed: an explicit reset, then the stream goes on live.
    await sql`delete from events where id <= ${Number(marker) + 5}`.execute(f.db.db);
    const resumed = hub.watch({
      principal,
      lastEventId: Number(marker),
      reauthenticate: () => Promise.resolve(principal),
    });
    const first = await collect(resumed, (s) => s.length >= 1);
    expect(first[0]).toMatchObject({ type: "reset", data: { requested_last_event_id: Number(marker) } });
    await c.deployments.create({ docker_image: "img:test", agent_id: agent.id });
    const next = await collect(resumed, (s) => s.length >= 1);
    expect(next[0]).toMatchObject({ type: "deployment.created", agent_id: agent.id });
    await resumed.return(undefined);

    // An id from the future (another database?) is a reset too.
    const future = hub.watch({
      principal,
      lastEventId: 10 ** 12,
      reauthenticate: () => Promise.resolve(principal),
    });
    expect((await collect(future, (s) => s.length >= 1))[0]?.type).toBe("reset");
    await future.return(undefined);
  });

  it("caps streams per principal (429), and releases a slot when a stream ends", async () => {
    const { principal } = await f.principal();
    const c = caller(principal);
    const streams = [];
    for (let i = 0; i < 3; i++) {
      const s = await subscribe(principal);
      void s.next().catch(() => {}); // tRPC runs a subscription lazily: pulling opens it
      streams.push(s);
    }
    await new Promise((r) => setTimeout(r, 100));
    const fourth = await subscribe(principal);
    const err = await rejection(fourth.next());
    expect(err.code).toBe("TOO_MANY_REQUESTS");
    expect(err.message).toMatch(/at most 3 open event streams/);
    streams[0]!.close();
    await new Promise((r) => setTimeout(r, 100));
    const again = await subscribe(principal);
    const pending = again.next();
    await new Promise((r) => setTimeout(r, 100));
    const agent = await c.agents.registerBuild({ name: uniqueName(), description: "" });
    expect((await pending).agent_id).toBe(agent.id);
    for (const s of [...streams.slice(1), again]) s.close();
  });

  it("disconnects a consumer that falls too far behind, with the reason", async () => {
    const { principal } = await f.principal();
    const c = caller(principal);
    const agent = await c.agents.registerBuild({ name: uniqueName(), description: "" });
    let aborted = false;
    const stream = hub.watch({
      principal,
      reauthenticate: () => Promise.resolve(principal),
      abortConnection: () => (aborted = true),
    });
    const pending = stream.next();
    await c.deployments.create({ docker_image: "img:test", agent_id: agent.id });
    await pending;
    // Stop reading; 60 more events (maxLag 50).
    for (let i = 0; i < 60; i++) await c.deployments.create({ docker_image: "img:test", agent_id: agent.id });
    await hub.refresh();
    expect(aborted).toBe(true);
    const err = await rejection(collect(stream, () => false, 2_000));
    expect(err.code).toBe("TOO_MANY_REQUESTS");
    expect(err.message).toMatch(/slow consumer/);
  });

  it("ends the stream when the token is revoked, and refuses an agent filter the caller cannot read (404)", async () => {
    const owner = await f.principal();
    const other = await f.principal();
    const agent = await caller(owner.principal).agents.registerBuild({ name: uniqueName(), description: "" });
    const hidden = await subscribe(other.principal, { agent_id: agent.id });
    expect((await rejection(hidden.next())).code).toBe("NOT_FOUND");

    let valid = true;
    const stream = hub.watch({
      principal: owner.principal,
      reauthenticate: () => Promise.resolve(valid ? owner.principal : null),
    });
    const beat = await stream.next(); // a quiet heartbeat interval passes
    expect(beat.value).toBe(HEARTBEAT);
    valid = false;
    const err = await rejection(collect(stream, () => false, 2_000));
    expect(err.code).toBe("UNAUTHORIZED");
  });

  it("ends every open stream when its runner halts, telling the client to reconnect and resume", async () => {
    const { principal } = await f.principal();
    const before = hub.size; // streams earlier tests left open, unread
    const stream = hub.watch({ principal, reauthenticate: () => Promise.resolve(principal) });
    const ended = rejection(collect(stream, () => false, 5_000));
    await new Promise((r) => setTimeout(r, 100));
    expect(hub.size).toBe(before + 1);
    workers!.halt();
    const err = await ended;
    expect(err.code).toBe("SERVICE_UNAVAILABLE");
    expect(err.message).toMatch(/reconnect with Last-Event-ID to resume/);
    expect(hub.size).toBe(before);
  });
});
