/** Where the CLI writes, and how it reports an error: the server's, or one of its own. */
import type { AgentexError } from "@agentex/client";
import { EXIT } from "./exit-codes.ts";
import { text } from "./format.ts";

export interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  env: Record<string, string | undefined>;
}

export const defaultIo: Io = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  env: process.env,
};

/** An error the server answered (or the client made of a failed call), as JSON under --json or as lines for people. */
export function reportError(io: Io, json: boolean, err: AgentexError): void {
  if (json) {
    const body = {
      error: {
        status_code: err.status_code,
        code: err.code,
        message: err.message,
        issues: err.issues,
        ...err.details,
        request_id: err.request_id,
      },
    };
    io.stderr(`${JSON.stringify(body, null, 2)}\n`);
    return;
  }
  const status = err.status_code === null ? err.code : `${err.status_code} ${err.code}`;
  const lines = [
    `agentex: error: ${err.message}`,
    `  ${status}${err.request_id ? ` · request id ${err.request_id}` : ""}`,
  ];
  for (const issue of err.issues) lines.push(`  - ${issue.field || "(input)"}: ${issue.message}`);
  // e.g. current_deployment_id of a PRODUCTION_CHANGED: what to re-check before retrying.
  for (const [key, value] of Object.entries(err.details))
    lines.push(`  ${key}: ${value === null ? "none" : text(value)}`);
  io.stderr(`${lines.join("\n")}\n`);
}

/** An error of the CLI's own (no server answer): the error body as JSON under --json, else `agentex: ...` and any extra lines. */
export function reportLocalError(io: Io, json: boolean, code: string, message: string, extra = ""): void {
  io.stderr(
    json
      ? `${JSON.stringify({ error: { status_code: null, code, message } }, null, 2)}\n`
      : `agentex: ${message}\n${extra}`,
  );
}

/** A bad command line: the message and where to read the usage (`hint --help`); exit 1. */
export function usage(io: Io, json: boolean, message: string, hint: string): number {
  reportLocalError(io, json, "USAGE", message, `Run '${hint} --help' for usage.\n`);
  return EXIT.usage;
}
