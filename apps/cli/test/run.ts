/** Running the `agentex` CLI as a user does (bin/agentex.mjs in a child process), and reading what it prints. */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import type { TestServer } from "@agentex/server/testing";
import { beforeAll } from "vitest";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON the CLI printed; each test reads the fields it expects
type Json = any;

export const BIN = fileURLToPath(new URL("../bin/agentex.mjs", import.meta.url));

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment without any AGENTEX_* a developer may have exported. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("AGENTEX_")) env[k] = v;
  return { ...env, ...extra };
}

export function exec(args: string[], env: NodeJS.ProcessEnv): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export const json = (r: Result): Json => {
  try {
    return JSON.parse(r.stdout);
  } catch {
    throw new Error(`not JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
};
export const jsonError = (r: Result): Json => JSON.parse(r.stderr).error;
export const uniq = (p: string) => `${p}-${randomUUID().slice(0, 8)}`;

export const COMMAND_NAMES = [
  "register-build",
  "register",
  "agents list",
  "agents get",
  "agents delete",
  "deployments create",
  "deployments list",
  "deployments get",
  "deployments promote",
  "deployments delete",
  "deployments history",
  "keys list",
  "keys create",
  "keys revoke",
  "grants list",
  "grants set",
  "grants revoke",
  "me",
  "principals create",
  "principals list",
];

type Principal = { id: string; token: string };

/**
 * Three principals on `s` (an owner who may create agents, a service account
 * that may not, an outsider who may) and `as(who, args)`, which runs the CLI
 * with `who`'s token and the server's URL in the environment.
 */
export function useCallers(s: TestServer) {
  const owner: Principal = { id: "", token: "" };
  const deployer: Principal = { id: "", token: "" };
  const outsider: Principal = { id: "", token: "" };
  const as = (who: { token: string } | string, args: string[], extra: Record<string, string> = {}) =>
    exec(
      args,
      cleanEnv({ AGENTEX_URL: s.url, AGENTEX_TOKEN: typeof who === "string" ? who : who.token, ...extra }),
    );

  beforeAll(async () => {
    Object.assign(owner, await s.principal({ can_create_agents: true }));
    Object.assign(deployer, await s.principal({ can_create_agents: false, kind: "service_account" }));
    Object.assign(outsider, await s.principal({ can_create_agents: true }));
  });
  return { owner, deployer, outsider, as };
}
