/** The `agentex` CLI against a real server: the exit codes scripts rely on (1 input, 2 not found, 3 conflict, 4 auth, 5 unreachable), flags and environment. */
import { randomUUID } from "node:crypto";
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { useServer } from "@agentex/server/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanEnv, exec, json, jsonError, uniq, useCallers } from "./run.ts";

describe("agentex against a real server", { timeout: 120_000 }, () => {
  const s = useServer();
  const { owner, outsider, as } = useCallers(s);

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
