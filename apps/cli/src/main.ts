import { parseArgs, type ParseArgsConfig } from "node:util";
import { AgentexError, createClient } from "@agentex/client";
import { UsageError, type Command, type OptionSpec } from "./command.ts";
import { COMMANDS } from "./commands/index.ts";
import { text } from "./format.ts";

/** Exit codes scripts can rely on. */
export const EXIT = {
  ok: 0,
  usage: 1,
  notFound: 2,
  conflict: 3,
  auth: 4,
  server: 5,
} as const;

const EXIT_HELP = `Exit codes:
  0  ok
  1  usage error: bad command line, or input the server rejected as invalid (400/422)
  2  not found (404)
  3  conflict or failed precondition (409/412), e.g. promoting a deployment that is not Ready
  4  authentication or permission (401/403), or no token given
  5  server or network: 5xx, unreachable server, timeout`;

const GLOBAL_OPTIONS: Record<string, OptionSpec & { short?: string }> = {
  url: {
    type: "string",
    value: "<url>",
    description: "server base URL (env AGENTEX_URL; default http://127.0.0.1:8000)",
  },
  token: { type: "string", value: "<token>", description: "bearer token (env AGENTEX_TOKEN)" },
  json: { type: "boolean", description: "print the API's JSON instead of tables (errors as JSON on stderr)" },
  timeout: { type: "string", value: "<ms>", description: "per-request timeout in ms (default 30000)" },
  help: { type: "boolean", short: "h", description: "show help" },
};

export interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  env: Record<string, string | undefined>;
}

const defaultIo: Io = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  env: process.env,
};

function optionLines(options: Record<string, OptionSpec & { short?: string }>): string[] {
  const rows = Object.entries(options).map(([name, o]) => [
    `${o.short ? `-${o.short}, ` : ""}--${name}${o.value ? ` ${o.value}` : ""}`,
    `${o.description}${o.required ? " (required)" : ""}`,
  ]);
  const width = Math.max(...rows.map((r) => r[0]!.length));
  return rows.map(([a, b]) => `  ${a!.padEnd(width)}  ${b}`);
}

function commandLine(c: Command): string {
  const required = Object.entries(c.options ?? {})
    .filter(([, o]) => o.required)
    .map(([n, o]) => `--${n} ${o.value ?? ""}`.trim());
  return ["agentex", c.name, ...(c.args ?? []), ...required, "[options]"].join(" ");
}

function summaryTable(commands: Command[]): string {
  const width = Math.max(...commands.map((c) => `${c.name} ${(c.args ?? []).join(" ")}`.length));
  return commands
    .map((c) => `  ${`${c.name} ${(c.args ?? []).join(" ")}`.padEnd(width)}  ${c.summary}`)
    .join("\n");
}

function globalHelp(): string {
  return `agentex: the agent registry's command line

Usage: agentex <command> [arguments] [options]

Commands:
${summaryTable(COMMANDS)}

Global options (every command):
${optionLines(GLOBAL_OPTIONS).join("\n")}

Run 'agentex <command> --help' for a command's arguments and options.

Example walk: register-build → grants set → deployments create → register --deployment-id → deployments promote → agents get

${EXIT_HELP}
`;
}

function groupHelp(group: string, commands: Command[]): string {
  return `Usage: agentex ${group} <command> [arguments] [options]

Commands:
${summaryTable(commands)}

Global options:
${optionLines(GLOBAL_OPTIONS).join("\n")}

${EXIT_HELP}
`;
}

function commandHelp(c: Command): string {
  const options =
    c.options && Object.keys(c.options).length ? `Options:\n${optionLines(c.options).join("\n")}\n\n` : "";
  return `Usage: ${commandLine(c)}

${c.summary}.
${c.details ? `\n${c.details}\n` : ""}
${options}Global options:
${optionLines(GLOBAL_OPTIONS).join("\n")}

${EXIT_HELP}
`;
}

function parserOptions(
  options: Record<string, OptionSpec & { short?: string }>,
): NonNullable<ParseArgsConfig["options"]> {
  const opts: NonNullable<ParseArgsConfig["options"]> = {};
  for (const [n, o] of Object.entries(options))
    opts[n] = { type: o.type, ...(o.short ? { short: o.short } : {}) };
  return opts;
}

/** The union of every option any command knows, for the first, lenient pass that only finds the command. */
function allOptions(): ParseArgsConfig["options"] {
  const commandOptions = COMMANDS.reduce<Record<string, OptionSpec>>(
    (all, c) => ({ ...all, ...c.options }),
    {},
  );
  return parserOptions({ ...commandOptions, ...GLOBAL_OPTIONS });
}

function exitCodeFor(err: AgentexError): number {
  switch (err.status_code) {
    case 400:
    case 422:
      return EXIT.usage;
    case 404:
      return EXIT.notFound;
    case 409:
    case 412:
      return EXIT.conflict;
    case 401:
    case 403:
      return EXIT.auth;
    default:
      return EXIT.server;
  }
}

function reportError(io: Io, json: boolean, err: AgentexError): void {
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
function reportLocalError(io: Io, json: boolean, code: string, message: string, extra = ""): void {
  io.stderr(
    json
      ? `${JSON.stringify({ error: { status_code: null, code, message } }, null, 2)}\n`
      : `agentex: ${message}\n${extra}`,
  );
}

function usage(io: Io, json: boolean, message: string, hint: string): number {
  reportLocalError(io, json, "USAGE", message, `Run '${hint} --help' for usage.\n`);
  return EXIT.usage;
}

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  // Pass 1: find the command among the positionals, whatever the options.
  let first;
  try {
    first = parseArgs({ args: argv, options: allOptions(), allowPositionals: true, strict: false });
  } catch (err) {
    return usage(io, false, (err as Error).message, "agentex");
  }
  const json = first.values.json === true;
  const words = first.positionals[0] === "help" ? first.positionals.slice(1) : first.positionals;
  const wantsHelp = first.values.help === true || first.positionals[0] === "help";

  const command = COMMANDS.find((c) => c.name.split(" ").every((w, i) => words[i] === w));
  if (!command) {
    if (words.length === 0) {
      if (wantsHelp) {
        io.stdout(globalHelp());
        return EXIT.ok;
      }
      io.stderr(globalHelp());
      return EXIT.usage;
    }
    const group = COMMANDS.filter((c) => c.name.split(" ").length > 1 && c.name.startsWith(`${words[0]} `));
    if (group.length && words.length === 1) {
      if (wantsHelp) {
        io.stdout(groupHelp(words[0]!, group));
        return EXIT.ok;
      }
      return usage(
        io,
        json,
        `'${words[0]}' needs a command: ${group.map((c) => c.name.split(" ")[1]).join(", ")}`,
        `agentex ${words[0]}`,
      );
    }
    return usage(
      io,
      json,
      `unknown command '${words.join(" ")}'`,
      group.length ? `agentex ${words[0]}` : "agentex",
    );
  }
  if (wantsHelp) {
    io.stdout(commandHelp(command));
    return EXIT.ok;
  }

  // Pass 2: strict, with this command's options only.
  const depth = command.name.split(" ").length;
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: parserOptions({ ...GLOBAL_OPTIONS, ...command.options }),
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    return usage(
      io,
      json,
      (err as Error).message.replace(/\. To specify a positional argument.*$/s, ""),
      `agentex ${command.name}`,
    );
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const args = parsed.positionals.slice(depth);
  const expected = command.args?.length ?? 0;
  if (args.length < expected) {
    return usage(io, json, `missing argument ${command.args![args.length]}`, `agentex ${command.name}`);
  }
  if (args.length > expected) {
    return usage(io, json, `unexpected argument '${args[expected]}'`, `agentex ${command.name}`);
  }

  const url =
    (typeof values.url === "string" ? values.url : undefined) ??
    io.env.AGENTEX_URL ??
    "http://127.0.0.1:8000";
  const token = (typeof values.token === "string" ? values.token : undefined) ?? io.env.AGENTEX_TOKEN;
  let timeoutMs = 30_000;
  if (typeof values.timeout === "string") {
    timeoutMs = Number(values.timeout);
    if (!/^\d+$/.test(values.timeout) || timeoutMs <= 0) {
      return usage(
        io,
        json,
        `--timeout must be a positive number of ms, got '${values.timeout}'`,
        `agentex ${command.name}`,
      );
    }
  }
  if (!/^https?:\/\/[^\s]+$/.test(url))
    return usage(io, json, `--url must be an http(s) URL, got '${url}'`, `agentex ${command.name}`);
  if (!token) {
    reportLocalError(io, json, "UNAUTHORIZED", "no token: pass --token <token> or set AGENTEX_TOKEN");
    return EXIT.auth;
  }

  const client = createClient({ url, token, timeoutMs });
  try {
    const print = (human: string, value: unknown) => io.stdout(json ? `${JSON.stringify(value)}\n` : human);
    const out = await command.run({ client, values, args, print });
    if (!out.streamed) io.stdout(json ? `${JSON.stringify(out.json, null, 2)}\n` : out.human);
    return EXIT.ok;
  } catch (err) {
    if (err instanceof UsageError) return usage(io, json, err.message, `agentex ${command.name}`);
    if (err instanceof AgentexError) {
      reportError(io, json, err);
      return exitCodeFor(err);
    }
    reportLocalError(
      io,
      json,
      "INTERNAL",
      `unexpected error: ${err instanceof Error ? err.message : String(err)}`,
    );
    return EXIT.server;
  }
}
