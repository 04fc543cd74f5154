import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { useServer } from "@agentex/server/testing";
import { cleanEnv, exec, type Result } from "./run.ts";

describe("agentex promotions / rollback / promote --expect", { timeout: 400_000 }, () => {
  const s = useServer();
  let token: string;
  const cli = (args: string[]) => exec(args, cleanEnv({ AGENTEX_URL: s.url, AGENTEX_TOKEN: token }));
  const out = (r: Result) => {
    if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout);
  };

  beforeAll(async () => {
    token = (await s.principal({ can_create_agents: true })).token;
  });

  it("has --help for the ledger commands and the production-change options", async () => {
    for (const name of ["promotions", "rollback", "deployments promote"]) {
      const r = await exec([...name.split(" "), "--help"], cleanEnv());
      expect(r.code, name).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: agentex ${name} <agent>`));
    }
    const promote = await exec(["deployments", "promote", "--help"], cleanEnv());
    for (const flag of ["--expect <id|none>", "--reason <text>", "--idempotency-key <key>"])
      expect(promote.stdout).toContain(flag);
    const rollback = await exec(["rollback", "--help"], cleanEnv());
    for (const flag of ["--to <deployment-id>", "--reason <text>", "--expect <id|none>"])
      expect(rollback.stdout).toContain(flag);
    const bad = await exec(
      ["deployments", "promote", "a", randomUUID(), "--expect", "yesterday"],
      cleanEnv({ AGENTEX_URL: s.url, AGENTEX_TOKEN: "t" }),
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("--expect must be a deployment id or 'none'");
  });

  it("promote --expect, a stale expectation (exit 3, current id shown), promotions, rollback", async () => {
    const name = `cli-led-${randomUUID().slice(0, 8)}`;
    out(await cli(["register-build", "--name", name, "--json"]));
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const dep = out(await cli(["deployments", "create", name, "--image", "img:test", "--json"]));
      out(
        await cli([
          "register",
          "--name",
          name,
          "--acp-url",
          `http://${name}-${i}.svc`,
          "--acp-type",
          "async",
          "--deployment-id",
          dep.id,
          "--json",
        ]),
      );
      ids.push(dep.id);
    }
    const [a, b] = ids as [string, string];

    const firstCut = ["deployments", "promote", name, a, "--expect", "none", "--reason", "first cut"];
    const firstCutOnce = [...firstCut, "--idempotency-key", "cli-1", "--json"];
    const p1 = out(await cli(firstCutOnce));
    expect(p1).toMatchObject({ id: a, is_production: true });
    // The same key again: the same answer, no second ledger row.
    expect(out(await cli(firstCutOnce))).toEqual(p1);

    const stale = await cli(["deployments", "promote", name, b, "--expect", "none"]);
    expect(stale.code).toBe(3);
    expect(stale.stderr).toContain("409 PRODUCTION_CHANGED");
    expect(stale.stderr).toContain(`current_deployment_id: ${a}`);
    const staleJson = await cli(["deployments", "promote", name, b, "--expect", "none", "--json"]);
    expect(JSON.parse(staleJson.stderr).error).toMatchObject({
      status_code: 409,
      code: "PRODUCTION_CHANGED",
      current_deployment_id: a,
    });

    out(await cli(["deployments", "promote", name, b, "--expect", a, "--json"]));
    const table = await cli(["promotions", name]);
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^#\s+AT\s+KIND\s+FROM\s+TO\s+BY\s+REASON$/);
    expect(lines).toHaveLength(3);
    expect(lines[1]).toContain(`promote  ${a}  ${b}`);
    expect(lines[2]).toContain("first cut");

    const rb = out(await cli(["rollback", name, "--reason", "b regressed", "--expect", b, "--json"]));
    expect(rb).toMatchObject({
      deployment: { id: a },
      promotion: { kind: "rollback", from_deployment_id: b, to_deployment_id: a },
    });
    const again = await cli(["rollback", name]);
    expect(again.code).toBe(3);
    expect(again.stderr).toContain("412 PRECONDITION_FAILED");

    const page = out(await cli(["promotions", name, "--limit", "2", "--json"]));
    expect(page.items.map((r: { kind: string }) => r.kind)).toEqual(["rollback", "promote"]);
    const at = out(await cli(["promotions", name, "--at", page.items[1].at, "--json"]));
    expect(at).toMatchObject({ deployment_id: b, promotion: { id: page.items[1].id } });
  });
});
