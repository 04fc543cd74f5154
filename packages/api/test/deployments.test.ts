import { randomUUID } from "node:crypto";
import { TEST_STORE } from "@agentex/db/testing";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { rejection, uniqueName, useFixture } from "./helpers.ts";
import { builtAgent, deploymentRow, productionRows, readyDeployment } from "./lifecycle-helpers.ts";

describe(`deployments (${TEST_STORE})`, () => {
  const f = useFixture();

  it("create makes a Pending deployment that echoes its fields", async () => {
    const { caller, agent } = await builtAgent(f);
    const d = await caller.deployments.create({
      agent_id: agent.id,
      docker_image: "registry/img:1.2.3",
      registration_metadata: { build: 7 },
      sgp_deploy_id: "sgp-1",
      helm_release_name: "rel-1",
    });
    expect(d).toMatchObject({
      agent_id: agent.id,
      docker_image: "registry/img:1.2.3",
      registration_metadata: { build: 7 },
      sgp_deploy_id: "sgp-1",
      helm_release_name: "rel-1",
      status: "Pending",
      acp_url: null,
      is_production: false,
      promoted_at: null,
      expires_at: null,
    });
    expect(await caller.deployments.get({ agent_id: agent.id, deployment_id: d.id })).toEqual(d);
  });

  it("create answers 404 for an unknown or deleted agent", async () => {
    const { caller, agent } = await builtAgent(f);
    expect(
      (await rejection(caller.deployments.create({ agent_id: randomUUID(), docker_image: "img:test" }))).code,
    ).toBe("NOT_FOUND");
    await caller.agents.delete({ agent_id: agent.id });
    expect(
      (await rejection(caller.deployments.create({ agent_id: agent.id, docker_image: "img:test" }))).code,
    ).toBe("NOT_FOUND");
    expect(
      await f.db.db.selectFrom("deployments").select("id").where("agent_id", "=", agent.id).execute(),
    ).toEqual([]);
  });

  it("get answers 404 for a deployment of another agent", async () => {
    const { caller, agent } = await builtAgent(f);
    const other = await caller.agents.registerBuild({ name: uniqueName(), description: "" });
    const theirs = await caller.deployments.create({ agent_id: other.id, docker_image: "img:test" });
    const err = await rejection(caller.deployments.get({ agent_id: agent.id, deployment_id: theirs.id }));
    expect(err.code).toBe("NOT_FOUND");
    expect(err.message).toMatch(/not found/);
  });

  it("list is newest first and leaves expired deployments out", async () => {
    const { caller, agent } = await builtAgent(f);
    const ids: string[] = [];
    for (let i = 0; i < 4; i++)
      ids.push((await caller.deployments.create({ agent_id: agent.id, docker_image: "img:test" })).id);
    // Pin distinct creation times so "newest first" is not a matter of timing.
    for (const [i, id] of ids.entries()) {
      await sql`update deployments set created_at = ${`2024-01-0${i + 1}T00:00:00Z`}::timestamptz where id = ${id}`.execute(
        f.db.db,
      );
    }
    await caller.deployments.delete({ agent_id: agent.id, deployment_id: ids[2]! });
    const listed = await caller.deployments.list({ agent_id: agent.id });
    expect(listed.map((d) => d.id)).toEqual([ids[3], ids[1], ids[0]]);
    // The expired one is still readable by id, with its expires_at.
    expect((await caller.deployments.get({ agent_id: agent.id, deployment_id: ids[2]! })).expires_at).toEqual(
      expect.any(String),
    );
  });

  it("delete is soft: sets expires_at, keeps the row, and a second delete is 404", async () => {
    const { caller, agent } = await builtAgent(f);
    const d = await readyDeployment(caller, agent);
    const res = await caller.deployments.delete({ agent_id: agent.id, deployment_id: d.id });
    expect(res.id).toBe(d.id);
    expect(res.message).toMatch(/deleted/);
    const row = await deploymentRow(f.db.db, d.id);
    expect(row.expires_at).not.toBeNull();
    expect(row.status).toBe("Ready");
    expect(
      (await rejection(caller.deployments.delete({ agent_id: agent.id, deployment_id: d.id }))).code,
    ).toBe("NOT_FOUND");
    expect(
      (await rejection(caller.deployments.delete({ agent_id: agent.id, deployment_id: randomUUID() }))).code,
    ).toBe("NOT_FOUND");
  });

  it("delete of a deployment of another agent is 404 and leaves it alone", async () => {
    const { caller, agent } = await builtAgent(f);
    const other = await caller.agents.registerBuild({ name: uniqueName(), description: "" });
    const theirs = await caller.deployments.create({ agent_id: other.id, docker_image: "img:test" });
    expect(
      (await rejection(caller.deployments.delete({ agent_id: agent.id, deployment_id: theirs.id }))).code,
    ).toBe("NOT_FOUND");
    expect((await deploymentRow(f.db.db, theirs.id)).expires_at).toBeNull();
  });

  it("the production deployment cannot be deleted (409) until another is promoted", async () => {
    const { caller, agent } = await builtAgent(f);
    const d1 = await readyDeployment(caller, agent);
    const d2 = await readyDeployment(caller, agent);
    await caller.deployments.promote({ agent_id: agent.id, deployment_id: d1.id });

    const err = await rejection(caller.deployments.delete({ agent_id: agent.id, deployment_id: d1.id }));
    expect(err.code).toBe("CONFLICT");
    const row = await deploymentRow(f.db.db, d1.id);
    expect(row.expires_at).toBeNull();
    expect(row.is_production).toBe(true);
    expect((await caller.agents.get({ agent_id: agent.id })).production_deployment_id).toBe(d1.id);

    await caller.deployments.promote({ agent_id: agent.id, deployment_id: d2.id });
    await caller.deployments.delete({ agent_id: agent.id, deployment_id: d1.id });
    expect((await caller.deployments.list({ agent_id: agent.id })).map((d) => d.id)).toEqual([d2.id]);
    expect((await productionRows(f.db.db, agent.id)).map((r) => r.id)).toEqual([d2.id]);
  });

  it("listPage walks every live deployment once, in list order; bogus cursors are 422", async () => {
    const { caller, agent } = await builtAgent(f);
    const ids: string[] = [];
    for (let i = 0; i < 11; i++)
      ids.push((await caller.deployments.create({ agent_id: agent.id, docker_image: "img:test" })).id);
    // Ties on created_at (the id breaks them) and microsecond precision the cursor must keep.
    const times = [
      "2024-03-01 00:00:00.000001+00",
      "2024-03-01 00:00:00.000001+00",
      "2024-03-01 00:00:00.000001+00",
      "2024-03-01 00:00:00.000002+00",
      "2024-03-01 00:00:00.000003+00",
      "2024-03-01 00:00:00.000003+00",
      "2024-03-02 00:00:00+00",
      "2024-03-02 00:00:00.5+00",
      "2024-03-03 00:00:00+00",
      "2024-03-03 00:00:00+00",
      "2024-03-04 00:00:00+00",
    ];
    for (const [i, id] of ids.entries()) {
      await sql`update deployments set created_at = ${times[i]}::timestamptz where id = ${id}`.execute(
        f.db.db,
      );
    }
    await caller.deployments.delete({ agent_id: agent.id, deployment_id: ids[4]! });
    const live = ids.filter((_, i) => i !== 4);

    // Expected: newest first, ties by id descending (times are listed oldest first; equal strings tie).
    const rank = (id: string) => times.indexOf(times[ids.indexOf(id)]!);
    const expected = [...live].sort((a, b) => rank(b) - rank(a) || (a < b ? 1 : a > b ? -1 : 0));
    const full = (await caller.deployments.list({ agent_id: agent.id, limit: 1000 })).map((d) => d.id);
    expect(full).toEqual(expected);

    for (const limit of [1, 2, 3, 10, 100]) {
      const walked: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: { items: { id: string }[]; next_cursor: string | null } =
          await caller.deployments.listPage({
            agent_id: agent.id,
            limit,
            cursor,
          });
        expect(page.items.length).toBeLessThanOrEqual(limit);
        walked.push(...page.items.map((d) => d.id));
        cursor = page.next_cursor;
        if (++pages > 50) throw new Error("cursor walk does not end");
      } while (cursor);
      expect(walked).toEqual(full);
    }

    for (const bogus of [
      "not-a-cursor",
      Buffer.from('{"s":"agents:created_at:desc:","k":"x","i":"y"}').toString("base64url"),
    ]) {
      const err = await rejection(caller.deployments.listPage({ agent_id: agent.id, cursor: bogus }));
      expect(err.code).toBe("UNPROCESSABLE_CONTENT");
      expect(JSON.stringify(err.issues)).toContain("cursor");
    }
    // A cursor of another agent's listing is refused too.
    const other = await caller.agents.registerBuild({ name: uniqueName(), description: "" });
    const first = await caller.deployments.listPage({ agent_id: agent.id, limit: 2 });
    const err = await rejection(
      caller.deployments.listPage({ agent_id: other.id, cursor: first.next_cursor }),
    );
    expect(err.code).toBe("UNPROCESSABLE_CONTENT");
  });

  it("a forged cursor with a malformed key is 422, not a 500", async () => {
    const { caller, agent } = await builtAgent(f);
    const forged = Buffer.from(
      JSON.stringify({ s: `deployments:${agent.id}`, k: "not a timestamp", i: randomUUID() }),
    ).toString("base64url");
    const err = await rejection(caller.deployments.listPage({ agent_id: agent.id, cursor: forged }));
    expect(err.code).toBe("UNPROCESSABLE_CONTENT");
  });
});
