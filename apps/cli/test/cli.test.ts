/**
 * The `agentex` CLI run as a child process (bin/agentex.mjs, as a user runs
 * it) against a real HTTP server: every command, tables and --json, the exit
 * codes scripts rely on, --help everywhere, flags and environment.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useServer } from "@agentex/server/testing";

const BIN = fileURLToPath(new URL("../bin/agentex.mjs", import.meta.url));

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment without any AGENTEX_* a developer may have exported. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("AGENTEX_")) env[k] = v;
  return { ...env, ...extra };
}

function exec(args: string[], env: NodeJS.ProcessEnv): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const json = (r: Result): any => {
  try {
    return JSON.parse(r.stdout);
  } catch {
    throw new Error(`not JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
};
const jsonError = (r: Result): any => JSON.parse(r.stderr).error;
const uniq = (p: string) => `${p}-${randomUUID().slice(0, 8)}`;

const COMMAND_NAMES = [
  "register-build",
  "register",
  "agents list",
  "agents get",
  "agents delete",
  "deployments create",
  "deployments list",
  "deployments get",
  "deployments promote",
  "deployments delete",
  "deployments history",
  "keys list",
  "keys create",
  "keys revoke",
  "grants list",
  "grants set",
  "grants revoke",
  "me",
  "principals create",
  "principals list",
];

describe("agentex --help (no server needed)", { timeout: 120_000 }, () => {
  it("prints the commands, global options and the exit-code table, exit 0", async () => {
    for (const args of [["--help"], ["-h"], ["help"]]) {
      const r = await exec(args, cleanEnv());
      expect(r.code).toBe(0);
      for (const name of COMMAND_NAMES) expect(r.stdout).toContain(`  ${name}`);
      for (const flag of ["--url", "--token", "--json", "--timeout"]) expect(r.stdout).toContain(flag);
      expect(r.stdout).toMatch(
        /Exit codes:\n {2}0 {2}ok\n {2}1 {2}usage error.*\n {2}2 {2}not found.*\n {2}3 {2}conflict.*\n {2}4 {2}auth.*\n {2}5 {2}server or network/,
      );
      expect(r.stdout).toContain("AGENTEX_URL");
      expect(r.stdout).toContain("AGENTEX_TOKEN");
    }
  });

  it("has --help on every command and group, exit 0, without a token", async () => {
    // A few processes at a time: twenty CLI start-ups at once can outlast a loaded machine's exec timeout.
    const runs: Array<{ name: string; r: Result }> = [];
    for (let i = 0; i < COMMAND_NAMES.length; i += 5) {
      const batch = COMMAND_NAMES.slice(i, i + 5);
      runs.push(
        ...(await Promise.all(
          batch.map(async (name) => ({ name, r: await exec([...name.split(" "), "--help"], cleanEnv()) })),
        )),
      );
    }
    for (const { name, r } of runs) {
      expect(r.code, name).toBe(0);
      expect(r.stdout, name).toMatch(new RegExp(`^Usage: agentex ${name} `));
      expect(r.stdout, name).toContain("Exit codes:");
      expect(r.stdout, name).toContain("--json");
    }
    const promote = runs.find((x) => x.name === "deployments promote")!.r.stdout;
    expect(promote).toContain("Usage: agentex deployments promote <agent> <deployment-id>");
    const register = runs.find((x) => x.name === "register")!.r.stdout;
    expect(register).toMatch(/--acp-url <url> +.*\(required\)/);
    expect(register).toContain("--deployment-id <id>");

    for (const group of ["agents", "deployments", "grants", "principals"]) {
      const r = await exec([group, "--help"], cleanEnv());
      expect(r.code, group).toBe(0);
      expect(r.stdout).toContain(`Usage: agentex ${group} <command>`);
      expect(r.stdout).toContain(`  ${group} list`);
    }
    const helpWord = await exec(["help", "grants", "set"], cleanEnv());
    expect(helpWord.code).toBe(0);
    expect(helpWord.stdout).toMatch(
      /^Usage: agentex grants set <agent> <principal-id> --role <viewer\|deployer\|owner>/,
    );
  });

  it("answers a bad command line with exit 1 and a hint on stderr", async () => {
    const none = await exec([], cleanEnv());
    expect(none.code).toBe(1);
    expect(none.stdout).toBe("");
    expect(none.stderr).toContain("Usage: agentex <command>");

    const unknown = await exec(["agents", "lst"], cleanEnv());
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("unknown command 'agents lst'");
    expect(unknown.stderr).toContain("Run 'agentex agents --help'");

    const group = await exec(["deployments"], cleanEnv());
    expect(group.code).toBe(1);
    expect(group.stderr).toContain("needs a command");

    const flag = await exec(["agents", "list", "--bogus"], cleanEnv({ AGENTEX_TOKEN: "t" }));
    expect(flag.code).toBe(1);
    expect(flag.stderr).toMatch(/Unknown option '--bogus'/);

    const extra = await exec(["agents", "get", "a", "b"], cleanEnv({ AGENTEX_TOKEN: "t" }));
    expect(extra.code).toBe(1);
    expect(extra.stderr).toContain("unexpected argument 'b'");

    const timeout = await exec(["me", "--timeout", "soon"], cleanEnv({ AGENTEX_TOKEN: "t" }));
    expect(timeout.code).toBe(1);
  });
});

describe("agentex against a real server", { timeout: 120_000 }, () => {
  const s = useServer();
  let owner: { id: string; token: string };
  let deployer: { id: string; token: string };
  let outsider: { id: string; token: string };
  const as = (who: { token: string } | string, args: string[], extra: Record<string, string> = {}) =>
    exec(
      args,
      cleanEnv({ AGENTEX_URL: s.url, AGENTEX_TOKEN: typeof who === "string" ? who : who.token, ...extra }),
    );

  beforeAll(async () => {
    owner = await s.principal({ can_create_agents: true });
    deployer = await s.principal({ can_create_agents: false, kind: "service_account" });
    outsider = await s.principal({ can_create_agents: true });
  });

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
    expect(json(await as(owner, ["keys", "list", name, "--json"])).map((k: any) => k.id)).toEqual([gh.id]);

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

  it("exit 1: input the server rejects (422), bad flags values", async () => {
    const bad = await as(owner, ["register-build", "--name", "Not Valid!"]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe("");
    expect(bad.stderr).toMatch(/422 UNPROCESSABLE_CONTENT · request id \S+/);
    expect(bad.stderr).toMatch(/^ {2}- name: /m);

    const noName = await as(owner, ["register-build"]);
    expect(noName.code).toBe(1);
    expect(noName.stderr).toContain("--name is required");

    const metadata = await as(owner, ["register-build", "--name", uniq("md"), "--metadata", "[1,2]"]);
    expect(metadata.code).toBe(1);
    expect(metadata.stderr).toContain("--metadata must be a JSON object");

    const limit = await as(owner, ["agents", "list", "--limit", "ten"]);
    expect(limit.code).toBe(1);
    const tooBig = await as(owner, ["agents", "list", "--limit", "5000", "--json"]);
    expect(tooBig.code).toBe(1);
    expect(jsonError(tooBig).issues[0].field).toBe("limit");

    const noArg = await as(owner, ["deployments", "promote", "some-agent"]);
    expect(noArg.code).toBe(1);
    expect(noArg.stderr).toContain("missing argument <deployment-id>");
  });

  it("exit 2: not found, with the error as JSON on stderr under --json", async () => {
    const byName = await as(owner, ["agents", "get", uniq("nope")]);
    expect(byName.code).toBe(2);
    expect(byName.stderr).toMatch(/not found/);
    expect(byName.stderr).toMatch(/404 NOT_FOUND/);

    const id = randomUUID();
    const asJson = await as(owner, ["agents", "get", id, "--json"]);
    expect(asJson.code).toBe(2);
    expect(asJson.stdout).toBe("");
    expect(jsonError(asJson)).toEqual({
      status_code: 404,
      code: "NOT_FOUND",
      message: expect.stringContaining(id),
      issues: [],
      request_id: expect.any(String),
    });

    const agentId = json(await as(owner, ["register-build", "--name", uniq("nf"), "--json"])).id;
    expect((await as(owner, ["deployments", "promote", agentId, randomUUID()])).code).toBe(2);
    expect((await as(owner, ["deployments", "list", uniq("nope")])).code).toBe(2);
  });

  it("exit 3: conflicts and lifecycle preconditions", async () => {
    const name = uniq("pre");
    const agentId = json(await as(owner, ["register-build", "--name", name, "--json"])).id;
    const dep = json(await as(owner, ["deployments", "create", agentId, "--image", "img:1", "--json"]));

    const pending = await as(owner, ["deployments", "promote", agentId, dep.id]);
    expect(pending.code).toBe(3);
    expect(pending.stderr).toMatch(/(409 CONFLICT|412 PRECONDITION_FAILED)/);

    await as(owner, [
      "register",
      "--name",
      name,
      "--acp-url",
      "http://pre:1",
      "--acp-type",
      "sync",
      "--deployment-id",
      dep.id,
    ]);
    expect((await as(owner, ["deployments", "promote", agentId, dep.id])).code).toBe(0);
    const prod = await as(owner, ["deployments", "delete", agentId, dep.id, "--json"]);
    expect(prod.code).toBe(3);
    expect(jsonError(prod)).toMatchObject({ status_code: 409, code: "CONFLICT" });

    // A name held by an agent the caller cannot see.
    const taken = await as(outsider, ["register-build", "--name", name]);
    expect(taken.code).toBe(3);
  });

  it("exit 4: no token, a bad token, a caller without the permission", async () => {
    const none = await exec(["agents", "list"], cleanEnv({ AGENTEX_URL: s.url }));
    expect(none.code).toBe(4);
    expect(none.stderr).toContain("no token: pass --token <token> or set AGENTEX_TOKEN");

    const bad = await as("agx_pat_not_a_real_token_000000", ["me"]);
    expect(bad.code).toBe(4);
    expect(bad.stderr).toMatch(/401 UNAUTHORIZED/);

    const name = uniq("perm");
    const agentId = json(await as(owner, ["register-build", "--name", name, "--json"])).id;
    await as(owner, ["grants", "set", agentId, outsider.id, "--role", "viewer"]);
    const forbidden = await as(outsider, ["agents", "delete", agentId, "--json"]);
    expect(forbidden.code).toBe(4);
    expect(jsonError(forbidden)).toMatchObject({ status_code: 403, code: "FORBIDDEN" });

    const notAdmin = await as(owner, ["principals", "list"]);
    expect(notAdmin.code).toBe(4);
  });

  describe("exit 5: server unreachable or too slow", () => {
    let silent: Server;
    let silentUrl = "";
    const sockets = new Set<Socket>();
    beforeAll(async () => {
      silent = createServer((sock) => {
        sockets.add(sock); // accepts, never answers
      });
      await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
      silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      for (const sock of sockets) sock.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    });

    it("a connection refused is exit 5 (after the client retried the query)", async () => {
      const probe = createServer();
      await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
      const port = (probe.address() as AddressInfo).port;
      await new Promise<void>((r) => probe.close(() => r()));
      const r = await as(owner, ["agents", "list", "--url", `http://127.0.0.1:${port}`, "--json"]);
      expect(r.code).toBe(5);
      expect(jsonError(r)).toMatchObject({ status_code: null, code: "NETWORK_ERROR" });
    });

    it("--timeout bounds a request: exit 5 with TIMEOUT", async () => {
      const started = Date.now();
      const r = await exec(
        ["me", "--timeout", "300"],
        cleanEnv({ AGENTEX_URL: silentUrl, AGENTEX_TOKEN: owner.token }),
      );
      expect(r.code).toBe(5);
      expect(r.stderr).toContain("no response within 300 ms");
      expect(r.stderr).toContain("TIMEOUT");
      expect(Date.now() - started).toBeLessThan(15_000);
    });
  });

  it("reads the URL from AGENTEX_URL and lets --url override it; admins manage principals", async () => {
    const me = await exec(
      ["me", "--json", "--url", s.url],
      cleanEnv({ AGENTEX_URL: "http://127.0.0.1:9", AGENTEX_TOKEN: s.adminToken }),
    );
    expect(me.code).toBe(0);
    expect(json(me)).toMatchObject({ admin: true, kind: "user" });

    const name = uniq("ci-bot");
    const created = await as(s.adminToken, [
      "principals",
      "create",
      "--name",
      name,
      "--kind",
      "service_account",
      "--can-create-agents",
      "--json",
    ]);
    expect(created.code).toBe(0);
    const p = json(created);
    expect(p).toMatchObject({
      name,
      kind: "service_account",
      admin: false,
      can_create_agents: true,
      token: expect.any(String),
    });
    const whoami = json(await as(p.token, ["me", "--json"]));
    expect(whoami).toMatchObject({ id: p.id, name });
    const table = await as(s.adminToken, ["principals", "list"]);
    expect(table.stdout).toMatch(new RegExp(`^${p.id} +${name} +service_account +no +yes `, "m"));
  });
});
