#!/usr/bin/env node
// Runs the CLI's TypeScript sources through tsx, like the server: no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main.ts');
const code = await main(process.argv.slice(2));
// Let stdout/stderr drain before leaving (pipes are asynchronous).
process.exitCode = code;
