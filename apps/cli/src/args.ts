/**
 * Reading the command line, in two passes: a lenient one that only finds the
 * command (whatever options follow), then a strict one with that command's
 * options, which also settles where to connect.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError, str, type Command, type OptionSpec, type RunContext } from "./command.ts";
import { COMMANDS } from "./commands/index.ts";

export type GlobalOptionSpec = OptionSpec & { short?: string };

export const GLOBAL_OPTIONS: Record<string, GlobalOptionSpec> = {
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

function parserOptions(options: Record<string, GlobalOptionSpec>): NonNullable<ParseArgsConfig["options"]> {
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

export interface Invocation {
  /** The positionals, less a leading `help`. */
  words: string[];
  /** The command those words name, if any. */
  command: Command | undefined;
  json: boolean;
  wantsHelp: boolean;
}

/** Pass 1: finds the command among the positionals, whatever the options. */
export function findCommand(argv: string[]): Invocation {
  const first = parseArgs({ args: argv, options: allOptions(), allowPositionals: true, strict: false });
  const words = first.positionals[0] === "help" ? first.positionals.slice(1) : first.positionals;
  return {
    words,
    command: COMMANDS.find((c) => c.name.split(" ").every((w, i) => words[i] === w)),
    json: first.values.json === true,
    wantsHelp: first.values.help === true || first.positionals[0] === "help",
  };
}

export interface CommandLine {
  values: RunContext["values"];
  /** The command's positional arguments, after its name. */
  args: string[];
  url: string;
  token: string | undefined;
  timeoutMs: number;
}

/** Pass 2: strict, with `command`'s options only. A bad command line throws a UsageError. */
export function readCommandLine(
  command: Command,
  argv: string[],
  env: Record<string, string | undefined>,
): CommandLine {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: parserOptions({ ...GLOBAL_OPTIONS, ...command.options }),
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\. To specify a positional argument.*$/s, ""));
  }
  const values = parsed.values as RunContext["values"];
  const args = parsed.positionals.slice(command.name.split(" ").length);
  const expected = command.args?.length ?? 0;
  if (args.length < expected) throw new UsageError(`missing argument ${command.args![args.length]}`);
  if (args.length > expected) throw new UsageError(`unexpected argument '${args[expected]}'`);

  const url = str(values, "url") ?? env.AGENTEX_URL ?? "http://127.0.0.1:8000";
  const token = str(values, "token") ?? env.AGENTEX_TOKEN;
  const timeout = str(values, "timeout");
  const timeoutMs = timeout === undefined ? 30_000 : Number(timeout);
  if (timeout !== undefined && (!/^\d+$/.test(timeout) || timeoutMs <= 0))
    throw new UsageError(`--timeout must be a positive number of ms, got '${timeout}'`);
  if (!/^https?:\/\/[^\s]+$/.test(url)) throw new UsageError(`--url must be an http(s) URL, got '${url}'`);
  return { values, args, url, token, timeoutMs };
}
