/** The help text: the whole CLI's, a command group's and one command's. */
import { GLOBAL_OPTIONS, type GlobalOptionSpec } from "./args.ts";
import type { Command } from "./command.ts";
import { COMMANDS } from "./commands/index.ts";
import { EXIT_HELP } from "./exit-codes.ts";

function optionLines(options: Record<string, GlobalOptionSpec>): string {
  const rows = Object.entries(options).map(([name, o]) => [
    `${o.short ? `-${o.short}, ` : ""}--${name}${o.value ? ` ${o.value}` : ""}`,
    `${o.description}${o.required ? " (required)" : ""}`,
  ]);
  const width = Math.max(...rows.map((r) => r[0]!.length));
  return rows.map(([a, b]) => `  ${a!.padEnd(width)}  ${b}`).join("\n");
}

const GLOBAL_OPTION_LINES = optionLines(GLOBAL_OPTIONS);

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

export function globalHelp(): string {
  return `agentex: the agent registry's command line

Usage: agentex <command> [arguments] [options]

Commands:
${summaryTable(COMMANDS)}

Global options (every command):
${GLOBAL_OPTION_LINES}

Run 'agentex <command> --help' for a command's arguments and options.

Example walk: register-build → grants set → deployments create → register --deployment-id → deployments promote → agents get

${EXIT_HELP}
`;
}

export function groupHelp(group: string, commands: Command[]): string {
  return `Usage: agentex ${group} <command> [arguments] [options]

Commands:
${summaryTable(commands)}

Global options:
${GLOBAL_OPTION_LINES}

${EXIT_HELP}
`;
}

export function commandHelp(c: Command): string {
  const options = c.options && Object.keys(c.options).length ? `Options:\n${optionLines(c.options)}\n\n` : "";
  return `Usage: ${commandLine(c)}

${c.summary}.
${c.details ? `\n${c.details}\n` : ""}
${options}Global options:
${GLOBAL_OPTION_LINES}

${EXIT_HELP}
`;
}
