#!/usr/bin/env node
// Runs the CLI from its TypeScript sources through tsx (development and the in-repo tests);
// the installed `agentex` is the compiled bundle, dist/agentex.js (src/bin.ts).
import { register } from "tsx/esm/api";

register();
await import("../src/bin.ts");
