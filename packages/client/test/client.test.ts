/**
 * The typed client against a real server over HTTP: the lifecycle end to end,
 * typed outputs, keyset paging, errors as TRPCClientError, request batching.
 */
import { randomUUID } from "node:crypto";
import { TEST_STORE, startProxy, useRegistry } from "@agentex/testing";
import { TRPCClientError } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import {
  createClient,
  type Agent,
  type AppRouter,
  type Deployment,
  type RegisteredAgent,
} from "../src/index.ts";

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

let seq = 0;
const uniqueName = (prefix = "cli") => `${prefix}-${process.pid}-${Date.now().toString(36)}-${seq++}`;

async function rejection(p: Promise<unknown>): Promise<TRPCClientError<AppRouter>> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(TRPCClientError);
    return err as TRPCClientError<AppRouter>;
  }
  throw new Error("expected the call to fail");
}

describe(`typed client over HTTP (${TEST_STORE})`, () => {
  const s = useRegistry();
  const admin = () => createClient({ url: s.url, token: s.adminToken });
  // The batching test's client goes through this proxy, which records each HTTP request it passes on.
  const wire = startProxy(() => s.url);
  const trpcRequests = wire.proxy.urls;
  beforeAll(() => wire.start());
  afterAll(() => wire.stop());

  it("runs registerBuild → deployments.create → register (deployment-scoped) → promote → agents.get", async () => {
    const client = admin();
    const name = uniqueName();

    const built = await client.agents.registerBuild.mutate({
      name,
      description: "typed",
      agent_input_type: "text",
    });
    expectTypeOf(built).toEqualTypeOf<Agent>();
    expect(built).toMatchObject({
      name,
      description: "typed",
      status: "BuildOnly",
      acp_url: null,
      agent_input_type: "text",
    });
    expect(built.created_at).toMatch(ISO);
    expect(typeof built.created_at).toBe("string");

    const dep = await client.deployments.create.mutate({
      agent_id: built.id,
      docker_image: "registry/img:1",
    });
    expectTypeOf(dep).toEqualTypeOf<Deployment>();
    expect(dep).toMatchObject({
      agent_id: built.id,
      status: "Pending",
      is_production: false,
      docker_image: "registry/img:1",
    });
    expect(dep.created_at).toMatch(ISO);

    const registered = await client.agents.register.mutate({
      name,
      description: "typed",
      acp_url: "http://typed.svc:8000",
      acp_type: "async",
      agent_id: built.id,
      registration_metadata: { deployment_id: dep.id },
    });
    expectTypeOf(registered).toEqualTypeOf<RegisteredAgent>();
    expect(registered.id).toBe(built.id);
    expect(typeof registered.agent_api_key).toBe("string");
    expect(registered.status).toBe("BuildOnly");

    const ready = await client.deployments.get.query({ agent_id: built.id, deployment_id: dep.id });
    expect(ready).toMatchObject({ status: "Ready", acp_url: "http://typed.svc:8000" });

    const promoted = await client.deployments.promote.mutate({ agent_id: built.id, deployment_id: dep.id });
    expectTypeOf(promoted).toEqualTypeOf<Deployment>();
    expect(promoted.is_production).toBe(true);
    expect(promoted.promoted_at).toMatch(ISO);

    const agent = await client.agents.get.query({ agent_id: built.id });
    expectTypeOf(agent).toEqualTypeOf<Agent>();
    expect(agent).toMatchObject({
      id: built.id,
      status: "Ready",
      production_deployment_id: dep.id,
      acp_url: "http://typed.svc:8000",
    });
    expect(agent.registered_at).toMatch(ISO);
    expect(await client.agents.getByName.query({ agent_name: name })).toEqual(agent);

    // The agent's own key works as the client's token: it may read itself.
    const asAgent = createClient({ url: s.url, token: registered.agent_api_key });
    expect((await asAgent.agents.get.query({ agent_id: built.id })).id).toBe(built.id);

    const list = await client.agents.list.query({ limit: 1000 });
    expectTypeOf(list).toEqualTypeOf<Agent[]>();
    expect(list.map((a) => a.id)).toContain(built.id);

    const deleted = await client.agents.delete.mutate({ agent_id: built.id });
    expect(deleted).toEqual({ id: built.id, message: `Agent '${built.id}' deleted successfully` });
    const gone = await rejection(client.agents.get.query({ agent_id: built.id }));
    expect(gone.data?.code).toBe("NOT_FOUND");
  });

  it("pages agents.listPage and deployments.listPage with cursors to the end, no duplicates", async () => {
    const user = await s.principal({ can_create_agents: true });
    const client = createClient({ url: s.url, token: user.token });
    const names = [];
    for (let i = 0; i < 5; i++)
      names.push(
        (await client.agents.registerBuild.mutate({ name: uniqueName("pg"), description: `#${i}` })).name,
      );

    for (const [order_by, order_direction] of [
      ["created_at", "desc"],
      ["name", "asc"],
      ["updated_at", "asc"],
      ["registered_at", "desc"],
    ] as const) {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: { items: Agent[]; next_cursor: string | null } = await client.agents.listPage.query({
          limit: 2,
          order_by,
          order_direction,
          cursor,
        });
        expect(page.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.items.map((a) => a.name));
        cursor = page.next_cursor;
        pages++;
        expect(pages).toBeLessThan(10);
      } while (cursor);
      expect(seen).toHaveLength(5);
      expect([...seen].sort()).toEqual([...names].sort());
      if (order_by === "name") expect(seen).toEqual([...names].sort());
    }

    const agent = await client.agents.getByName.query({ agent_name: names[0]! });
    const deps: string[] = [];
    for (let i = 0; i < 3; i++)
      deps.push(
        (await client.deployments.create.mutate({ agent_id: agent.id, docker_image: "img:test" })).id,
      );
    const seen: string[] = [];
    let cursor: string | null | undefined;
    do {
      const page = await client.deployments.listPage.query({ agent_id: agent.id, limit: 2, cursor });
      seen.push(...page.items.map((d) => d.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual([...deps].reverse()); // newest first

    // A cursor from one ordering is refused under another.
    const first = await client.agents.listPage.query({ limit: 1, order_by: "name" });
    expect(first.next_cursor).toBeTruthy();
    const wrong = await rejection(
      client.agents.listPage.query({ limit: 1, order_by: "created_at", cursor: first.next_cursor }),
    );
    expect(wrong.data?.code).toBe("UNPROCESSABLE_CONTENT");
  });

  it("surfaces errors as TRPCClientError with data.code and data.httpStatus", async () => {
    const client = admin();

    const missing = await rejection(client.agents.get.query({ agent_id: randomUUID() }));
    expect(missing.data?.code).toBe("NOT_FOUND");
    expect(missing.data?.httpStatus).toBe(404);
    expect(missing.message).toMatch(/not found/);

    const invalid = await rejection(
      client.agents.registerBuild.mutate({ name: "Not A Valid Name", description: "x" }),
    );
    expect(invalid.data?.code).toBe("UNPROCESSABLE_CONTENT");
    expect(invalid.data?.httpStatus).toBe(422);
    expect(invalid.data?.issues?.map((i) => i.field)).toContain("name");

    const anonymous = createClient({ url: s.url });
    const unauth = await rejection(anonymous.agents.list.query({}));
    expect(unauth.data?.code).toBe("UNAUTHORIZED");
    expect(unauth.data?.httpStatus).toBe(401);

    const badToken = createClient({ url: s.url, token: "agx_pat_nope" });
    expect((await rejection(badToken.agents.list.query({}))).data?.httpStatus).toBe(401);

    const built = await client.agents.registerBuild.mutate({ name: uniqueName(), description: "x" });
    const dep = await client.deployments.create.mutate({ agent_id: built.id, docker_image: "img:test" });
    const pending = await rejection(
      client.deployments.promote.mutate({ agent_id: built.id, deployment_id: dep.id }),
    );
    expect(pending.data?.code).toBe("PRECONDITION_FAILED");
    expect(pending.data?.httpStatus).toBe(412);

    const other = await s.principal({ can_create_agents: true });
    const taken = await rejection(
      createClient({ url: s.url, token: other.token }).agents.registerBuild.mutate({
        name: built.name,
        description: "y",
      }),
    );
    expect(taken.data?.code).toBe("CONFLICT");
    expect(taken.data?.httpStatus).toBe(409);
    expect(taken.message).not.toContain(built.id);
  });

  it("batches several calls made in one tick into one HTTP request, each with its own result", async () => {
    const client = createClient({ url: wire.proxy.url, token: s.adminToken });
    const a = await client.agents.registerBuild.mutate({ name: uniqueName("b"), description: "a" });
    const b = await client.agents.registerBuild.mutate({ name: uniqueName("b"), description: "b" });

    const before = trpcRequests.length;
    const results = await Promise.allSettled([
      client.agents.get.query({ agent_id: a.id }),
      client.agents.get.query({ agent_id: b.id }),
      client.agents.getByName.query({ agent_name: a.name }),
      client.agents.get.query({ agent_id: randomUUID() }),
      client.agents.list.query({ limit: 1000 }),
    ]);
    expect(trpcRequests.length - before).toBe(1);
    expect(trpcRequests.at(-1)).toMatch(/batch=1/);

    const [ra, rb, rName, rMissing, rList] = results;
    expect(ra).toMatchObject({ status: "fulfilled", value: { id: a.id } });
    expect(rb).toMatchObject({ status: "fulfilled", value: { id: b.id } });
    expect(rName).toMatchObject({ status: "fulfilled", value: { id: a.id } });
    expect(rMissing.status).toBe("rejected");
    const err = (rMissing as PromiseRejectedResult).reason as TRPCClientError<AppRouter>;
    expect(err).toBeInstanceOf(TRPCClientError);
    expect(err.data?.code).toBe("NOT_FOUND");
    expect(rList.status).toBe("fulfilled");
    const ids = (rList as PromiseFulfilledResult<Agent[]>).value.map((x) => x.id);
    expect(ids).toEqual(expect.arrayContaining([a.id, b.id]));

    // Mutations batch too.
    const before2 = trpcRequests.length;
    const made = await Promise.all(
      [1, 2, 3].map((i) =>
        client.agents.registerBuild.mutate({ name: uniqueName("bm"), description: `m${i}` }),
      ),
    );
    expect(trpcRequests.length - before2).toBe(1);
    expect(new Set(made.map((m) => m.id)).size).toBe(3);
  });

  it("accepts a base URL with a trailing slash", async () => {
    const client = createClient({ url: `${s.url}/`, token: s.adminToken });
    expect((await client.me.get.query()).admin).toBe(true);
  });
});
