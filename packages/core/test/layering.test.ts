import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * The layout's rules, read from the source itself: the domain core knows no
 * transport, no package imports an app, and every workspace package a
 * package imports is one its package.json declares.
 */
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    if (entry === "node_modules" || entry === "dist") continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...sources(path));
    else if (/\.(ts|tsx|mjs)$/.test(entry)) out.push(path);
  }
  return out;
}

/** Every module specifier a file imports or re-exports (static and dynamic). */
function specifiers(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const found = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s+"([^"]+)"/g)].map(
    (m) => m[1]!,
  );
  found.push(...[...text.matchAll(/\bimport\(\s*"([^"]+)"\s*\)/g)].map((m) => m[1]!));
  found.push(...[...text.matchAll(/(?:^|\n)\s*import\s+"([^"]+)"/g)].map((m) => m[1]!));
  return found;
}

const PACKAGES = readdirSync(join(ROOT, "packages")).filter((p) =>
  statSync(join(ROOT, "packages", p, "package.json"), { throwIfNoEntry: false }),
);
const APPS = readdirSync(join(ROOT, "apps"));

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}
const manifest = (dir: string) => JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Manifest;
const APP_NAMES = new Set(APPS.map((a) => manifest(join(ROOT, "apps", a)).name));

describe("the layout", () => {
  it("keeps the domain core free of any transport: no tRPC, no Fastify, no HTTP server", () => {
    const offending = sources(join(ROOT, "packages/core"))
      .flatMap((file) => specifiers(file).map((spec) => ({ file: relative(ROOT, file), spec })))
      .filter(({ spec }) => /^(@trpc\/|fastify|@fastify\/|trpc-to-openapi|node:http$)/.test(spec));
    expect(offending).toEqual([]);
    const deps = manifest(join(ROOT, "packages/core"));
    const declared = Object.keys({ ...deps.dependencies, ...deps.devDependencies });
    expect(declared.filter((d) => /trpc|fastify/.test(d))).toEqual([]);
  });

  it("never lets a package import an app, by name or by path", () => {
    const offending: string[] = [];
    for (const pkg of PACKAGES) {
      const dir = join(ROOT, "packages", pkg);
      const m = manifest(dir);
      for (const dep of Object.keys({ ...m.dependencies, ...m.devDependencies, ...m.peerDependencies })) {
        if (APP_NAMES.has(dep)) offending.push(`${pkg}/package.json names ${dep}`);
      }
      for (const file of sources(dir)) {
        for (const spec of specifiers(file)) {
          const name = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec;
          if (APP_NAMES.has(name) || /(^|\/)apps\//.test(spec))
            offending.push(`${relative(ROOT, file)}: ${spec}`);
        }
      }
    }
    expect(offending).toEqual([]);
  });

  it("has every package declare the workspace packages it imports", () => {
    const missing: string[] = [];
    for (const pkg of PACKAGES) {
      const dir = join(ROOT, "packages", pkg);
      const m = manifest(dir);
      const declared = new Set([
        m.name,
        ...Object.keys({ ...m.dependencies, ...m.devDependencies, ...m.peerDependencies }),
      ]);
      for (const file of sources(dir)) {
        for (const spec of specifiers(file)) {
          if (!spec.startsWith("@agentex/")) continue;
          const name = spec.split("/").slice(0, 2).join("/");
          if (!declared.has(name)) missing.push(`${relative(ROOT, file)}: ${name}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });
});
