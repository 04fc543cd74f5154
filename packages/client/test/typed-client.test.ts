/**
 * The compile-time client test: the README's example project
 * (examples/typed-client) must type-check against the current router — its
 * `@ts-expect-error` lines and type assertions fail `tsc` as soon as the
 * client's types drift from the router (a renamed field, a widened enum, an
 * input that stops being checked, types that collapse to `any`). The example
 * is also run against a real server, so what the README shows works.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { TEST_STORE, useRegistry } from "@agentex/testing";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../../../", import.meta.url));
const example = "examples/typed-client";

describe("typed client example", () => {
  it("type-checks, with every @ts-expect-error still an error", { timeout: 120_000 }, async () => {
    const result = await run(
      process.execPath,
      [`${root}node_modules/typescript/bin/tsc`, "--noEmit", "-p", `${example}/tsconfig.json`],
      {
        cwd: root,
      },
    ).catch((err: { stdout?: string; stderr?: string; code?: number }) => err);
    expect(`${result.stdout ?? ""}${result.stderr ?? ""}`).toBe("");
    expect("code" in result ? result.code : 0).toBe(0);
  });
});

describe(`typed client example at run time (${TEST_STORE})`, () => {
  const s = useRegistry();

  it(
    "walks register-build → deployment → register → promote against a real server",
    { timeout: 60_000 },
    async () => {
      const { stdout } = await run(
        process.execPath,
        [
          `${root}node_modules/tsx/dist/cli.mjs`,
          "--tsconfig",
          `${example}/tsconfig.json`,
          `${example}/index.ts`,
        ],
        { cwd: root, env: { ...process.env, AGENTEX_URL: s.url, AGENTEX_TOKEN: s.adminToken } },
      );
      expect(stdout).toMatch(/^registered example-agent-\S+ \([0-9a-f-]{36}\): BuildOnly$/m);
      expect(stdout).toMatch(
        /is Ready at http:\/\/example-agent\.internal:8000 \(production [0-9a-f-]{36}\)$/m,
      );
      expect(stdout).toMatch(/^as expected: 404 /m);
    },
  );
});

describe("the README's typed-client snippet", () => {
  it("type-checks exactly as printed", { timeout: 120_000 }, async () => {
    const readme = readFileSync(`${root}README.md`, "utf8");
    const section = readme.slice(readme.indexOf("## Typed client"));
    const snippet = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
    expect(snippet, 'README has a ```ts block under "## Typed client"').toBeTruthy();
    const dir = mkdtempSync(join(root, example, ".readme-"));
    try {
      writeFileSync(join(dir, "snippet.ts"), snippet!);
      writeFileSync(
        join(dir, "tsconfig.json"),
        JSON.stringify({
          extends: "../tsconfig.json",
          compilerOptions: { paths: { "@agentex/client": ["../../../packages/client/src/index.ts"] } },
          files: ["snippet.ts"],
        }),
      );
      const result = await run(
        process.execPath,
        [`${root}node_modules/typescript/bin/tsc`, "--noEmit", "-p", join(dir, "tsconfig.json")],
        {
          cwd: root,
        },
      ).catch((err: { stdout?: string; stderr?: string; code?: number }) => err);
      expect(`${result.stdout ?? ""}${result.stderr ?? ""}`).toBe("");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
