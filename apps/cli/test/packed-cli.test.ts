/**
 * The CLI as users install it: `pnpm --filter @agentex/cli pack`, the tarball
 * `npm install`ed into an empty folder outside the workspace, then
 * `npx agentex --help` and real calls against a live server. The package
 * has no runtime dependencies (the typed client and tRPC are bundled), so it
 * can never reach for an unpublished @agentex/* package.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { TEST_STORE } from "@agentex/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useServer } from "@agentex/server/testing";
import { ensureBuilt, npm, packWorkspacePackage } from "../../../test/packaging.ts";

const run = promisify(execFile);

describe(`the packed CLI installed outside the workspace (${TEST_STORE})`, () => {
  const s = useServer();
  let dir = "";

  beforeAll(async () => {
    await ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), "agentex-cli-install-"));
    const tarball = await packWorkspacePackage("@agentex/cli", dir);
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "cli-user", private: true }));
    await npm(["install", "--no-audit", "--no-fund", "--loglevel=error", `./${tarball}`], dir);
  }, 600_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const agentex = (args: string[]) =>
    run("npx", ["--no-install", "agentex", ...args], {
      cwd: dir,
      env: { ...process.env, AGENTEX_URL: s.url, AGENTEX_TOKEN: s.adminToken },
      timeout: 60_000,
    });

  it("installs with no dependencies at all", () => {
    const manifest = JSON.parse(readFileSync(join(dir, "node_modules/@agentex/cli/package.json"), "utf8"));
    expect(manifest.dependencies ?? {}).toEqual({});
    expect(readdirSync(join(dir, "node_modules")).filter((m) => !m.startsWith("."))).toEqual(["@agentex"]);
    expect(readdirSync(join(dir, "node_modules/@agentex"))).toEqual(["cli"]);
  });

  it("`npx agentex --help` prints the usage", async () => {
    const { stdout } = await agentex(["--help"]);
    expect(stdout).toMatch(/register-build/);
    expect(stdout).toMatch(/Exit codes:/);
  });

  it("makes real calls against a live server", async () => {
    const name = `packed-cli-${Date.now().toString(36)}`;
    const created = JSON.parse(
      (await agentex(["register-build", "--name", name, "--description", "from the packed CLI", "--json"]))
        .stdout,
    );
    expect(created).toMatchObject({ name, status: "BuildOnly" });
    const { stdout } = await agentex(["agents", "get", name]);
    expect(stdout).toContain(created.id);
    expect((await s.api("GET", `/api/agents/${created.id}`)).body.name).toBe(name);
    const missing = await agentex(["agents", "get", "no-such-agent-here"]).catch(
      (err: { code?: number }) => err,
    );
    expect("code" in missing ? missing.code : 0).toBe(2);
  });
});
