/**
 * Runs before `pnpm start` (and `pnpm migrate`, `pnpm agentex`, `pnpm bench`):
 * builds when the compiled output is missing or older than the sources, then
 * exits, so the server itself runs as one plain node process on dist/.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, isBuildCurrent } from './build-inputs.mjs';

if (!isBuildCurrent()) {
  console.error('agentex: compiled output missing or stale; building (pnpm build)…');
  const run = spawnSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { stdio: 'inherit', cwd: ROOT });
  if (run.status !== 0) process.exit(run.status ?? 1);
}
