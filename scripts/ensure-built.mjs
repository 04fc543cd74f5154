/**
 * Runs before `pnpm start` (and `pnpm migrate`, `pnpm agentex`, `pnpm bench`,
 * and the packaging tests): builds when the compiled output is missing or was
 * built from other sources, then exits, so the server itself runs as one plain
 * node process on dist/. Concurrent callers (parallel test files) take turns
 * on a lock directory; the second finds the build current and does nothing.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { ROOT, isBuildCurrent } from "./build-inputs.mjs";

const LOCK = join(ROOT, "node_modules/.agentex-build.lock");
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

function lock() {
  for (;;) {
    try {
      mkdirSync(LOCK);
      return;
    } catch (err) {
      if (err.code !== "EEXIST") throw err;
      try {
        // A lock older than 20 minutes belongs to a build that died.
        if (Date.now() - statSync(LOCK).mtimeMs > 20 * 60_000) rmSync(LOCK, { recursive: true, force: true });
      } catch {
        // released meanwhile
      }
      sleep(250);
    }
  }
}

if (!isBuildCurrent()) {
  lock();
  let status = 0;
  try {
    if (!isBuildCurrent()) {
      console.error("agentex: compiled output missing or stale; building (pnpm build)…");
      // stdout too goes to stderr: `pnpm -s agentex … --json` keeps a clean stdout.
      const run = spawnSync(process.execPath, [join(ROOT, "scripts/build.mjs")], {
        stdio: ["ignore", 2, 2],
        cwd: ROOT,
      });
      status = run.status ?? 1;
    }
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
  if (status !== 0) process.exit(status);
}
