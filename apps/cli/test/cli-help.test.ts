/** `agentex --help` and bad command lines: no server needed. */
import { describe, expect, it } from "vitest";
import { COMMAND_NAMES, cleanEnv, exec, type Result } from "./run.ts";

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
