/**
 * The `agentex` executable. `pnpm build` bundles this file, with the typed
 * client and tRPC, into dist/agentex.js: the published CLI has no runtime
 * dependencies. (bin/agentex.mjs runs the same code from source, for tests.)
 */
import { main } from "./main.ts";

// `agentex agents list | head -1`: a reader that goes away is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw err;
  });
}

const code = await main(process.argv.slice(2));
// Let stdout/stderr drain before leaving (pipes are asynchronous).
process.exitCode = code;
