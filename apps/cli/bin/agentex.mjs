#!/usr/bin/env node
// Runs the CLI from its TypeScript sources through tsx (development and the in-repo tests);
// the installed `agentex` is the compiled bundle, dist/agentex.js (src/bin.ts).
import { register } from "tsx/esm/api";

// `agentex agents list | head -1`: a reader that goes away is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (err) => {
    if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw err;
  });
}

register();
const { main } = await import("../src/main.ts");
const code = await main(process.argv.slice(2));
// Let stdout/stderr drain before leaving (pipes are asynchronous).
process.exitCode = code;
