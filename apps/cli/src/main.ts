import { AgentexError, createClient } from "@agentex/client";
import { findCommand, readCommandLine, type CommandLine, type Invocation } from "./args.ts";
import { UsageError } from "./command.ts";
import { COMMANDS } from "./commands/index.ts";
import { EXIT, exitCodeFor } from "./exit-codes.ts";
import { commandHelp, globalHelp, groupHelp } from "./help.ts";
import { defaultIo, reportError, reportLocalError, usage, type Io } from "./output.ts";

/** No command is named: the help asked for (the CLI's or a group's), or a usage error. */
function withoutCommand(io: Io, { words, json, wantsHelp }: Invocation): number {
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

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  let invocation: Invocation;
  try {
    invocation = findCommand(argv);
  } catch (err) {
    return usage(io, false, (err as Error).message, "agentex");
  }
  const { command, json } = invocation;
  if (!command) return withoutCommand(io, invocation);
  if (invocation.wantsHelp) {
    io.stdout(commandHelp(command));
    return EXIT.ok;
  }

  const hint = `agentex ${command.name}`;
  let line: CommandLine;
  try {
    line = readCommandLine(command, argv, io.env);
  } catch (err) {
    if (err instanceof UsageError) return usage(io, json, err.message, hint);
    throw err;
  }
  const { values, args, url, token, timeoutMs } = line;
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
    if (err instanceof UsageError) return usage(io, json, err.message, hint);
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
