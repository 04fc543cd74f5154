import { TEST_STORE } from "@agentex/db/testing";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { createCaller, createContextInner } from "../src/index.ts";
import { type LifecycleEvent, type Caller } from "@agentex/core";
import { SECRET, rejection, uniqueName, useFixture } from "./helpers.ts";
import { builtAgent, readyDeployment, registerInput } from "./lifecycle-helpers.ts";

describe(`idempotency keys (${TEST_STORE})`, () => {
  const f = useFixture();

  /** A caller sending `Idempotency-Key: key` (as the server passes the header), recording events and headers. */
  const withHeader = (
    principal: Caller,
    key: string | null,
    sink: { events: LifecycleEvent[]; headers: Record<string, string> },
  ) =>
    createCaller(
      createContextInner({
        db: f.db.db,
        secretKey: SECRET,
        principal,
        idempotencyKey: key,
        events: { onEvent: (e) => sink.events.push(e) },
        setHeader: (name, value) => {
          sink.headers[name] = value;
        },
      }),
    );

  const deploymentCount = async (agentId: string) =>
    Number(
      (
        await sql<{
          n: number;
        }>`select count(*)::int as n from deployments where agent_id = ${agentId}`.execute(f.db.db)
      ).rows[0]!.n,
    );

  it("the same key and input replays the first answer without doing the work again", async () => {
    const { caller, agent } = await builtAgent(f);
    const first = await caller.deployments.create({
      agent_id: agent.id,
      docker_image: "img:1",
      idempotency_key: "create-1",
    });
    const again = await caller.deployments.create({
      agent_id: agent.id,
      docker_image: "img:1",
      idempotency_key: "create-1",
    });
    expect(again).toEqual(first);
    expect(await deploymentCount(agent.id)).toBe(1);
  });

  it("header and input field are the same key; the replay is marked and emits no event", async () => {
    const { agent, principal } = await builtAgent(f);
    const sink1 = { events: [] as LifecycleEvent[], headers: {} as Record<string, string> };
    const first = await withHeader(principal, "hdr-1", sink1).deployments.create({
      agent_id: agent.id,
      docker_image: "img:h",
    });
    expect(sink1.events).toEqual(["deployment_created"]);
    expect(sink1.headers["idempotent-replayed"]).toBeUndefined();
    const sink2 = { events: [] as LifecycleEvent[], headers: {} as Record<string, string> };
    const replay = await withHeader(principal, null, sink2).deployments.create({
      agent_id: agent.id,
      docker_image: "img:h",
      idempotency_key: "hdr-1",
    });
    expect(replay).toEqual(first);
    expect(sink2.events).toEqual([]);
    expect(sink2.headers["idempotent-replayed"]).toBe("true");
    const disagree = await rejection(
      withHeader(principal, "hdr-2", sink2).deployments.create({
        agent_id: agent.id,
        docker_image: "img:h",
        idempotency_key: "hdr-3",
      }),
    );
    expect(disagree.code).toBe("UNPROCESSABLE_CONTENT");
  });

  it("the same key with a different input (or another procedure) is a 422", async () => {
    const { caller, agent } = await builtAgent(f);
    await caller.deployments.create({ agent_id: agent.id, docker_image: "img:a", idempotency_key: "k-diff" });
    const other = await rejection(
      caller.deployments.create({ agent_id: agent.id, docker_image: "img:b", idempotency_key: "k-diff" }),
    );
    expect(other.code).toBe("UNPROCESSABLE_CONTENT");
    expect(other.issues).toEqual([
      { field: "idempotency_key", message: "was already used with a different request" },
    ]);
    const proc = await rejection(
      caller.agents.registerBuild({ name: uniqueName(), description: "", idempotency_key: "k-diff" }),
    );
    expect(proc.code).toBe("UNPROCESSABLE_CONTENT");
    expect(await deploymentCount(agent.id)).toBe(1);
  });

  it("keys are scoped to the caller", async () => {
    const { caller, agent } = await builtAgent(f);
    const { principal: other } = await f.principal();
    await caller.grants.set({ agent_id: agent.id, principal_id: other.id, role: "deployer" });
    await caller.deployments.create({ agent_id: agent.id, docker_image: "img:s", idempotency_key: "shared" });
    await f
      .as(other)
      .deployments.create({ agent_id: agent.id, docker_image: "img:s", idempotency_key: "shared" });
    expect(await deploymentCount(agent.id)).toBe(2);
  });

  it("an error the work decided (412, 409 PRODUCTION_CHANGED) is replayed; a schema failure is not kept", async () => {
    const { caller, agent } = await builtAgent(f);
    const pending = await caller.deployments.create({ docker_image: "img:test", agent_id: agent.id });
    const first = await rejection(
      caller.deployments.promote({ agent_id: agent.id, deployment_id: pending.id, idempotency_key: "p-412" }),
    );
    expect(first.code).toBe("PRECONDITION_FAILED");
    // Now it is Ready, but the key's answer stays the first one.
    await caller.agents.register(
      registerInput(agent.name, {
        agent_id: agent.id,
        acp_url: "http://x.svc:1",
        registration_metadata: { deployment_id: pending.id },
      }),
    );
    const replayed = await rejection(
      caller.deployments.promote({ agent_id: agent.id, deployment_id: pending.id, idempotency_key: "p-412" }),
    );
    expect(replayed).toMatchObject({ code: "PRECONDITION_FAILED", message: first.message });
    expect((await caller.agents.get({ agent_id: agent.id })).production_deployment_id).toBeNull();

    const cas = {
      agent_id: agent.id,
      deployment_id: pending.id,
      expected_current_deployment_id: pending.id,
      idempotency_key: "p-409",
    };
    const c1 = await rejection(caller.deployments.promote(cas));
    const c2 = await rejection(caller.deployments.promote(cas));
    expect(c2).toMatchObject({
      code: "CONFLICT",
      reason: "PRODUCTION_CHANGED",
      details: { current_deployment_id: null },
    });
    expect(c2.message).toBe(c1.message);

    const bad = await rejection(
      caller.deployments.create({
        docker_image: "img:test",
        agent_id: "not-a-uuid",
        idempotency_key: "schema",
      }),
    );
    expect(bad.code).toBe("UNPROCESSABLE_CONTENT");
    await caller.deployments.create({
      docker_image: "img:test",
      agent_id: agent.id,
      idempotency_key: "schema",
    }); // the key was left free
  });

  it("concurrent duplicates: exactly one execution, all get the same answer", async () => {
    const { caller, agent } = await builtAgent(f);
    const results = await Promise.all(
      Array.from({ length: 12 }, () =>
        caller.deployments.create({ agent_id: agent.id, docker_image: "img:c", idempotency_key: "burst" }),
      ),
    );
    expect(new Set(results.map((r) => r.id)).size).toBe(1);
    expect(await deploymentCount(agent.id)).toBe(1);
  });

  it("concurrent duplicate promotes write one ledger row", async () => {
    const { caller, agent } = await builtAgent(f);
    const [a, b] = [await readyDeployment(caller, agent), await readyDeployment(caller, agent)];
    await caller.deployments.promote({ agent_id: agent.id, deployment_id: a.id });
    await Promise.all(
      Array.from({ length: 8 }, () =>
        caller.deployments.promote({ agent_id: agent.id, deployment_id: b.id, idempotency_key: "promo" }),
      ),
    );
    // Then a rollback and a retry of the same promote: still replayed, production stays rolled back.
    await caller.promotions.rollback({ agent_id: agent.id });
    await caller.deployments.promote({ agent_id: agent.id, deployment_id: b.id, idempotency_key: "promo" });
    const page = await caller.promotions.list({ agent_id: agent.id });
    expect(page.items.map((r) => r.kind)).toEqual(["rollback", "promote", "promote"]);
    expect((await caller.agents.get({ agent_id: agent.id })).production_deployment_id).toBe(a.id);
  });

  it("answers holding a credential are sealed: the table never holds it in the clear", async () => {
    const { principal } = await f.principal({ admin: true });
    const admin = f.as(principal);
    const created = await admin.principals.create({
      name: uniqueName("p"),
      kind: "user",
      idempotency_key: "mint",
    });
    const replay = await admin.principals.create({
      name: created.name,
      kind: "user",
      idempotency_key: "mint",
    });
    expect(replay.token).toBe(created.token);
    const { rows } = await sql<{ response: string }>`select response from idempotency_keys`.execute(f.db.db);
    const secret = created.token.replace(/^agx_pat_/, "");
    for (const r of rows) expect(r.response).not.toContain(secret);
  });

  it("keys expire after 24 h: an expired key is reusable and expired rows are purged", async () => {
    const { caller, agent } = await builtAgent(f);
    await caller.deployments.create({ agent_id: agent.id, docker_image: "img:e", idempotency_key: "old" });
    await sql`update idempotency_keys set expires_at = now() - interval '1 second' where key = 'old'`.execute(
      f.db.db,
    );
    await caller.deployments.create({ agent_id: agent.id, docker_image: "img:e", idempotency_key: "old" });
    expect(await deploymentCount(agent.id)).toBe(2);
    const ttl = await sql<{
      h: number;
    }>`select extract(epoch from expires_at - created_at)::int / 3600 as h from idempotency_keys where key = 'old'`.execute(
      f.db.db,
    );
    expect(Number(ttl.rows[0]!.h)).toBe(24);

    await sql`update idempotency_keys set expires_at = now() - interval '1 second' where key = 'old'`.execute(
      f.db.db,
    );
    await caller.deployments.create({
      agent_id: agent.id,
      docker_image: "img:e",
      idempotency_key: "another",
    });
    const left = await sql<{
      n: number;
    }>`select count(*)::int as n from idempotency_keys where expires_at < now()`.execute(f.db.db);
    expect(Number(left.rows[0]!.n)).toBe(0);
  });

  it("a bad key is a 422 naming it", async () => {
    const { caller, agent } = await builtAgent(f);
    const bad = await rejection(
      caller.deployments.create({
        docker_image: "img:test",
        agent_id: agent.id,
        idempotency_key: "has space",
      }),
    );
    expect(["UNPROCESSABLE_CONTENT", "BAD_REQUEST"]).toContain(bad.code);
  });
});
