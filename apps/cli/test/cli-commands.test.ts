/** The `agentex` CLI against a real server: every command, as a table and as --json. */
import { useServer } from "@agentex/server/testing";
import { describe, expect, it } from "vitest";
import { cleanEnv, exec, json, jsonError, uniq, useCallers } from "./run.ts";

describe("agentex against a real server", { timeout: 120_000 }, () => {
  const s = useServer();
  const { owner, deployer, outsider, as } = useCallers(s);

  it("walks register-build → grants set → deployments create → register → promote → agents get", async () => {
    const name = uniq("walk");

    // Build time, as the owner: a table-free "key: value" record by default.
    const built = await as(owner, ["register-build", "--name", name, "--description", "walk agent"]);
    expect(built.code).toBe(0);
    expect(built.stderr).toBe("");
    expect(built.stdout).toMatch(new RegExp(`^name: +${name}$`, "m"));
    expect(built.stdout).toMatch(/^status: +BuildOnly$/m);
    const agentId = /^id: +([0-9a-f-]{36})$/m.exec(built.stdout)![1]!;

    // Idempotent by name, with --json.
    const again = json(await as(owner, ["register-build", "--name", name, "--json"]));
    expect(again).toMatchObject({
      id: agentId,
      name,
      status: "BuildOnly",
      acp_url: null,
      description: "walk agent",
    });

    // Share it with the deployer, by agent name.
    const grant = await as(owner, ["grants", "set", name, deployer.id, "--role", "deployer", "--json"]);
    expect(grant.code).toBe(0);
    expect(json(grant)).toMatchObject({
      agent_id: agentId,
      principal_id: deployer.id,
      role: "deployer",
      granted_by: owner.id,
    });

    // The deployer (token by flag, overriding a bad one in the environment) creates a deployment.
    const created = await exec(
      [
        "deployments",
        "create",
        agentId,
        "--image",
        "registry.example/walk:1",
        "--token",
        deployer.token,
        "--json",
      ],
      cleanEnv({ AGENTEX_URL: s.url, AGENTEX_TOKEN: "agx_pat_wrong_token_0000000000" }),
    );
    expect(created.code).toBe(0);
    const deployment = json(created);
    expect(deployment).toMatchObject({
      agent_id: agentId,
      status: "Pending",
      is_production: false,
      docker_image: "registry.example/walk:1",
    });

    // The running deployment registers (deployment-scoped): the agent row is not touched.
    const registered = await as(deployer, [
      "register",
      "--name",
      name,
      "--description",
      "walk agent",
      "--acp-url",
      "http://walk.internal:8000",
      "--acp-type",
      "async",
      "--agent-id",
      agentId,
      "--deployment-id",
      deployment.id,
    ]);
    expect(registered.code).toBe(0);
    expect(registered.stdout).toMatch(/^agent_api_key: +\S+$/m);
    expect(registered.stdout).toMatch(/^status: +BuildOnly$/m);

    const listed = await as(deployer, ["deployments", "list", name]);
    expect(listed.code).toBe(0);
    expect(listed.stdout.split("\n")[0]).toMatch(/^ID +STATUS +PRODUCTION +IMAGE +ACP URL +CREATED$/);
    expect(listed.stdout).toMatch(
      new RegExp(
        `^${deployment.id} +Ready +no +registry\\.example/walk:1 +http://walk\\.internal:8000 `,
        "m",
      ),
    );

    // Cut over.
    const promoted = await as(deployer, ["deployments", "promote", name, deployment.id]);
    expect(promoted.code).toBe(0);
    expect(promoted.stdout).toMatch(/^is_production: +yes$/m);
    expect(promoted.stdout).toMatch(/^promoted_at: +\d{4}-/m);

    const agent = json(await as(deployer, ["agents", "get", name, "--json"]));
    expect(agent).toMatchObject({
      id: agentId,
      status: "Ready",
      acp_url: "http://walk.internal:8000",
      production_deployment_id: deployment.id,
    });
    const byId = await as(owner, ["agents", "get", agentId]);
    expect(byId.code).toBe(0);
    expect(byId.stdout).toMatch(new RegExp(`^production_deployment_id: +${deployment.id}$`, "m"));

    const got = json(await as(owner, ["deployments", "get", name, deployment.id, "--json"]));
    expect(got).toMatchObject({ id: deployment.id, is_production: true, status: "Ready" });
  });

  it("lists agents as a table and as the JSON array, with filters", async () => {
    const a = uniq("list-a");
    const b = uniq("list-b");
    await as(owner, ["register-build", "--name", a]);
    await as(owner, ["register-build", "--name", b]);

    const table = await as(owner, ["agents", "list", "--order-by", "name", "--order-direction", "asc"]);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ID +NAME +STATUS +ACP URL +PRODUCTION DEPLOYMENT +UPDATED$/);
    const names = lines.slice(1).map((l) => l.split(/ +/)[1]);
    expect(names).toContain(a);
    expect(names.indexOf(a)).toBeLessThan(names.indexOf(b));

    const limited = json(await as(owner, ["agents", "list", "--limit", "1", "--json"]));
    expect(Array.isArray(limited)).toBe(true);
    expect(limited).toHaveLength(1);

    const buildOnly = json(
      await as(owner, ["agents", "list", "--status", "BuildOnly", "--limit", "1000", "--json"]),
    );
    expect(buildOnly.map((x: { name: string }) => x.name)).toEqual(expect.arrayContaining([a, b]));
    expect(buildOnly.every((x: { status: string }) => x.status === "BuildOnly")).toBe(true);

    // The outsider reads none of them.
    const theirs = await as(outsider, ["agents", "list"]);
    expect(theirs.code).toBe(0);
    expect(theirs.stdout).not.toContain(a);

    const empty = await as(deployer, ["agents", "list", "--status", "Failed"]);
    expect(empty.stdout).toBe("(no agents)\n");
  });

  it("creates, lists and revokes keys; shows deployment history", async () => {
    const name = uniq("keys");
    expect((await as(owner, ["register-build", "--name", name, "--description", "keys agent"])).code).toBe(0);
    const created = json(await as(owner, ["keys", "create", name, "--name", "ci", "--json"]));
    expect(created).toMatchObject({ name: "ci", api_key_type: "external" });
    expect(created.api_key).toMatch(/^agx_key_/);
    const gh = json(
      await as(owner, [
        "keys",
        "create",
        name,
        "--name",
        "octo/repo",
        "--type",
        "github",
        "--value",
        "github-secret-0123456",
        "--json",
      ]),
    );
    expect(gh).toMatchObject({
      api_key_type: "github",
      api_key: "github-secret-0123456",
      key_prefix: "gith",
    });
    const listed = await as(owner, ["keys", "list", name]);
    expect(listed.code).toBe(0);
    expect(listed.stdout.split("\n")[0]).toMatch(/^ID +NAME +TYPE +PREFIX +CREATED$/);
    expect(listed.stdout).toMatch(new RegExp(`^${gh.id} +octo/repo +github +gith `, "m"));
    const revoked = await as(owner, ["keys", "revoke", created.id]);
    expect(revoked).toMatchObject({ code: 0, stdout: `Agent API key with ID ${created.id} deleted\n` });
    expect(json(await as(owner, ["keys", "list", name, "--json"])).map((k: { id: string }) => k.id)).toEqual([
      gh.id,
    ]);

    const registered = await as(owner, [
      ...[
        "register",
        "--name",
        name,
        "--description",
        "keys agent",
        "--acp-url",
        "http://keys.internal:8000",
        "--acp-type",
        "async",
      ],
      ...["--metadata", '{"commit_hash":"abc123","branch_name":"main","author_email":"dev@example.com"}'],
    ]);
    expect(registered.code).toBe(0);
    const history = await as(owner, ["deployments", "history", name]);
    expect(history.code).toBe(0);
    expect(history.stdout.split("\n")[0]).toMatch(/^COMMIT +BRANCH +AUTHOR +BUILT +DEPLOYED +DEPLOYMENT$/);
    expect(history.stdout).toMatch(/^abc123 +main +dev@example\.com /m);
    expect(json(await as(owner, ["deployments", "history", name, "--commit", "nope", "--json"]))).toEqual([]);
  });

  it("lists, sets and revokes grants; an agent keeps its last owner (exit 3)", async () => {
    const name = uniq("share");
    const agentId = json(await as(owner, ["register-build", "--name", name, "--json"])).id;
    expect((await as(owner, ["grants", "set", agentId, outsider.id, "--role", "viewer"])).code).toBe(0);

    const listed = await as(owner, ["grants", "list", name]);
    expect(listed.code).toBe(0);
    expect(listed.stdout.split("\n")[0]).toMatch(/^PRINCIPAL +ROLE +GRANTED BY +CREATED$/);
    expect(listed.stdout).toMatch(new RegExp(`^${owner.id} +owner `, "m"));
    expect(listed.stdout).toMatch(new RegExp(`^${outsider.id} +viewer +${owner.id} `, "m"));

    const revoked = await as(owner, ["grants", "revoke", name, outsider.id]);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain("revoked");
    const after = json(await as(owner, ["grants", "list", agentId, "--json"]));
    expect(after.map((g: { principal_id: string }) => g.principal_id)).toEqual([owner.id]);

    const lastOwner = await as(owner, ["grants", "revoke", agentId, owner.id]);
    expect(lastOwner.code).toBe(3);
    expect(lastOwner.stderr).toMatch(/409 CONFLICT/);

    const missingRole = await as(owner, ["grants", "set", agentId, outsider.id]);
    expect(missingRole.code).toBe(1);
    expect(missingRole.stderr).toContain("--role is required");
    const badRole = await as(owner, ["grants", "set", agentId, outsider.id, "--role", "admin", "--json"]);
    expect(badRole.code).toBe(1);
    expect(jsonError(badRole)).toMatchObject({ status_code: 422, code: "UNPROCESSABLE_CONTENT" });
    expect(jsonError(badRole).issues.map((i: { field: string }) => i.field)).toEqual(["role"]);
  });

  it("deletes deployments and agents, by id and by name", async () => {
    const name = uniq("del");
    const agentId = json(await as(owner, ["register-build", "--name", name, "--json"])).id;
    const dep = json(await as(owner, ["deployments", "create", name, "--image", "img:1", "--json"]));
    const gone = await as(owner, ["deployments", "delete", name, dep.id]);
    expect(gone.code).toBe(0);
    expect(gone.stdout).toMatch(/deleted/i);
    expect((await as(owner, ["deployments", "list", agentId])).stdout).toBe("(no deployments)\n");

    const deleted = await as(owner, ["agents", "delete", name]);
    expect(deleted.code).toBe(0);
    expect(deleted.stdout).toBe(`Agent '${name}' deleted successfully\n`);
    expect((await as(owner, ["agents", "get", agentId])).code).toBe(2);
    expect((await as(owner, ["agents", "delete", agentId])).code).toBe(2);

    const other = json(await as(owner, ["register-build", "--name", uniq("del-id"), "--json"]));
    const byId = await as(owner, ["agents", "delete", other.id, "--json"]);
    expect(byId.code).toBe(0);
    expect(json(byId)).toEqual({ id: other.id, message: `Agent '${other.id}' deleted successfully` });
  });
});
