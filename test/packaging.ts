/**
 * Helpers for the packaging tests: build when needed, pack a workspace
 * package the way it is published, and run npm in a folder outside the
 * workspace.
 */
import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
export const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** `pnpm build` when the compiled output is missing or stale (scripts/ensure-built.mjs). */
export async function ensureBuilt(): Promise<void> {
  await run(process.execPath, [join(ROOT, "scripts/ensure-built.mjs")], {
    cwd: ROOT,
    timeout: 900_000,
    maxBuffer: 64 * 2 ** 20,
  });
}

/** `pnpm --filter <name> pack --pack-destination <dir>`; returns the tarball's file name. */
export async function packWorkspacePackage(name: string, dir: string): Promise<string> {
  const before = new Set(readdirSync(dir));
  await run("npx", ["-y", "pnpm@10.34.9", "--filter", name, "pack", "--pack-destination", dir], {
    cwd: ROOT,
    timeout: 300_000,
    maxBuffer: 16 * 2 ** 20,
  });
  const tarball = readdirSync(dir).find((f) => f.endsWith(".tgz") && !before.has(f));
  if (!tarball) throw new Error(`pnpm pack of ${name} wrote no tarball into ${dir}`);
  return tarball;
}

/** npm in `dir` (outside the workspace: its own package.json, the public registry). */
export async function npm(
  args: string[],
  dir: string,
  env: Record<string, string> = {},
): Promise<{ stdout: string; stderr: string }> {
  return run("npm", args, {
    cwd: dir,
    timeout: 600_000,
    maxBuffer: 16 * 2 ** 20,
    env: { ...process.env, npm_config_update_notifier: "false", ...env },
  });
}
