/**
 * The SDK as another app gets it: `pnpm --filter @agentex/client pack`, the
 * tarball `npm install`ed into an empty folder outside the workspace, a small
 * consumer type-checked by a strict `tsc` (skipLibCheck off, so the
 * package's own declarations are checked too) with `@ts-expect-error` lines
 * that must stay errors, then run against a live server. The installed tree
 * must hold nothing from @agentex/* but the client, and none of the server's
 * libraries (kysely, zod, trpc-to-openapi, pg, PGlite).
 * Needs the npm registry (for @trpc/*, typescript and @types/node).
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { TEST_STORE, useRegistry } from "@agentex/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, npm, packWorkspacePackage } from "../../../test/packaging.ts";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const TS_VERSION = JSON.parse(readFileSync(join(ROOT, "node_modules/typescript/package.json"), "utf8"))
  .version as string;
const NODE_TYPES = JSON.parse(readFileSync(join(ROOT, "node_modules/@types/node/package.json"), "utf8"))
  .version as string;

const CONSUMER = `import { randomUUID } from 'node:crypto';
import { AgentexError, createClient, type Agent, type AgentStatus, type RouterInputs } from '@agentex/client';
import { CODE_BY_STATUS, codeForStatus } from '@agentex/client/codes';

const client = createClient({ url: process.env.AGENTEX_URL!, token: process.env.AGENTEX_TOKEN! });

export function neverCalled(): void {
  // @ts-expect-error agent_id is a string, not a number
  void client.agents.get.query({ agent_id: 42 });
  // @ts-expect-error there is no such procedure
  void client.agents.teleport.mutate({ agent_id: 'x' });
  // @ts-expect-error acp_type is an enum
  const bad: RouterInputs['agents']['register']['acp_type'] = 'carrier-pigeon';
  void bad;
}

const name = \`packed-sdk-\${randomUUID().slice(0, 8)}\`;
const created: Agent = await client.agents.registerBuild.mutate({ name, description: 'from the packed SDK' });
const status: AgentStatus = created.status;
const got = await client.agents.getByName.query({ agent_name: name });
const dep = await client.deployments.create.mutate({ agent_id: got.id, docker_image: 'registry.local/packed:1' });
let notFound: number | null = null;
try {
  await client.agents.get.query({ agent_id: randomUUID() });
} catch (err) {
  if (err instanceof AgentexError) notFound = err.status_code;
}
const codes: string[] = [codeForStatus(404), codeForStatus(599), CODE_BY_STATUS[503] ?? 'none'];
console.log(JSON.stringify({ id: got.id, name: got.name, status, deployment: dep.status, notFound, codes }));
`;

describe(`the packed SDK in an app outside the workspace (${TEST_STORE})`, () => {
  const s = useRegistry();
  let dir = "";

  beforeAll(async () => {
    await ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), "agentex-sdk-consumer-"));
    const tarball = await packWorkspacePackage("@agentex/client", dir);
    writeFileSync(
      join(dir, "package.json"),
      JSON.stringify({
        name: "sdk-consumer",
        private: true,
        type: "module",
        dependencies: { "@agentex/client": `file:./${tarball}` },
        devDependencies: { typescript: TS_VERSION, "@types/node": NODE_TYPES },
      }),
    );
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          skipLibCheck: false,
          noUncheckedIndexedAccess: true,
          exactOptionalPropertyTypes: true,
          types: ["node"],
          outDir: "out",
        },
        files: ["consumer.ts"],
      }),
    );
    writeFileSync(join(dir, "consumer.ts"), CONSUMER);
    await npm(["install", "--no-audit", "--no-fund", "--loglevel=error"], dir);
  }, 600_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("installs only the client and tRPC: nothing from @agentex/* or the server libraries", () => {
    const modules = readdirSync(join(dir, "node_modules"));
    expect(readdirSync(join(dir, "node_modules/@agentex"))).toEqual(["client"]);
    for (const lib of ["kysely", "zod", "zod-openapi", "trpc-to-openapi", "pg", "fastify"])
      expect(modules).not.toContain(lib);
    expect(existsSync(join(dir, "node_modules/@electric-sql"))).toBe(false);
    const manifest = JSON.parse(readFileSync(join(dir, "node_modules/@agentex/client/package.json"), "utf8"));
    expect(manifest.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(manifest.exports["."]).toMatchObject({ types: "./dist/index.d.ts", import: "./dist/index.js" });
    expect(Object.keys(manifest.dependencies).sort()).toEqual([
      "@trpc/client",
      "@trpc/server",
      "eventsource",
    ]);
    expect(manifest.devDependencies).toBeUndefined();
    // The workspace code the SDK imports ships inside it: no module it holds imports an @agentex/* package.
    const pkg = join(dir, "node_modules/@agentex/client");
    const shipped = readdirSync(join(pkg, "dist"), { recursive: true, encoding: "utf8" }).filter((f) =>
      /\.(js|d\.ts)$/.test(f),
    );
    expect(shipped).toContain("inline/wire/index.js");
    for (const file of shipped)
      expect(readFileSync(join(pkg, "dist", file), "utf8")).not.toMatch(
        /(from|import)\s*\(?\s*["']@agentex\//,
      );
  });

  it(
    "type-checks a strict consumer (skipLibCheck off), every @ts-expect-error still an error",
    { timeout: 180_000 },
    async () => {
      const tsc = await run(
        process.execPath,
        [join(dir, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"],
        { cwd: dir },
      ).catch((err: { stdout?: string; stderr?: string }) => err);
      expect(`${tsc.stdout ?? ""}${tsc.stderr ?? ""}`).toBe("");
      // And the expectations bite: without them the same file fails.
      writeFileSync(join(dir, "consumer-unguarded.ts"), CONSUMER.replaceAll("// @ts-expect-error", "//"));
      const strictFail = await run(
        process.execPath,
        [
          join(dir, "node_modules/typescript/bin/tsc"),
          "--noEmit",
          "--strict",
          "--skipLibCheck",
          "false",
          "--module",
          "nodenext",
          "--moduleResolution",
          "nodenext",
          "--target",
          "es2022",
          "--types",
          "node",
          "consumer-unguarded.ts",
        ],
        { cwd: dir },
      ).catch((err: { stdout?: string }) => err);
      const out = strictFail.stdout ?? "";
      expect(out).toMatch(
        /consumer-unguarded\.ts\(\d+,\d+\): error TS2322: Type 'number' is not assignable to type 'string'/,
      );
      expect(out).toMatch(/Property 'teleport' does not exist/);
      expect(out).toMatch(/"carrier-pigeon"|'carrier-pigeon'/);
    },
  );

  it("runs the consumer against a live server", { timeout: 60_000 }, async () => {
    const { stdout } = await run(process.execPath, [join(dir, "out/consumer.js")], {
      cwd: dir,
      env: { ...process.env, AGENTEX_URL: s.url, AGENTEX_TOKEN: s.adminToken },
    });
    const result = JSON.parse(stdout.trim());
    expect(result).toMatchObject({
      status: "BuildOnly",
      deployment: "Pending",
      notFound: 404,
      codes: ["NOT_FOUND", "INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE"],
    });
    expect(result.name).toMatch(/^packed-sdk-/);
    expect((await s.api("GET", `/api/agents/${result.id}`)).status).toBe(200);
  });
});
