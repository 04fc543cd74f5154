/** What a command is, how it reads its arguments and options, and the shapes of its answer. */
import type { Agent, AgentexClient } from "@agentex/client";
import { record, table, type Column } from "./format.ts";

/** A bad command line: exit code 1 with the command's usage hint. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export interface OptionSpec {
  type: "string" | "boolean";
  /** Shown in help, e.g. `--limit <n>`. */
  value?: string;
  description: string;
  required?: boolean;
}

export interface Output {
  /** What `--json` prints: the API's answer as is. */
  json: unknown;
  /** What a person reads. */
  human: string;
  /** Already printed piece by piece through `print` (a stream): nothing more to print. */
  streamed?: boolean;
}

export interface RunContext {
  client: AgentexClient;
  values: Record<string, string | boolean | undefined>;
  args: string[];
  /** Prints one piece of a streaming command's output now (`human`, or `json` as one line with --json). */
  print?: (human: string, json: unknown) => void;
}

export interface Command {
  /** Words after `agentex`, e.g. `agents list`. */
  name: string;
  summary: string;
  /** Positional arguments, e.g. `<agent>`. */
  args?: string[];
  options?: Record<string, OptionSpec>;
  /** Extra help text. */
  details?: string;
  run(ctx: RunContext): Promise<Output>;
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const AGENT_ARG_HELP = "<agent> is an agent id or an agent name.";

/** A command about one agent: `<agent>`, then the `more` arguments, and what `<agent>` is ahead of `details`. */
export function onAgent(more: string[] = [], details?: string): Pick<Command, "args" | "details"> {
  return { args: ["<agent>", ...more], details: details ? `${AGENT_ARG_HELP}\n${details}` : AGENT_ARG_HELP };
}

export function str(values: RunContext["values"], key: string): string | undefined {
  const v = values[key];
  return typeof v === "string" ? v : undefined;
}

export function requiredStr(values: RunContext["values"], key: string): string {
  const v = str(values, key);
  if (v === undefined) throw new UsageError(`--${key} is required`);
  return v;
}

export function int(values: RunContext["values"], key: string): number | undefined {
  const v = str(values, key);
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v)) throw new UsageError(`--${key} must be an integer, got '${v}'`);
  return Number(v);
}

export function jsonObject(values: RunContext["values"], key: string): Record<string, unknown> | undefined {
  const v = str(values, key);
  if (v === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch {
    throw new UsageError(`--${key} must be a JSON object, e.g. '{"team":"search"}'`);
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed))
    throw new UsageError(`--${key} must be a JSON object`);
  return parsed as Record<string, unknown>;
}

export function arg(ctx: RunContext, index: number, name: string): string {
  const v = ctx.args[index];
  if (v === undefined || v === "") throw new UsageError(`missing argument ${name}`);
  return v;
}

/** An agent by id (a uuid) or by name. */
export async function findAgent(client: AgentexClient, ref: string): Promise<Agent> {
  return UUID.test(ref)
    ? client.agents.get.query({ agent_id: ref })
    : client.agents.getByName.query({ agent_name: ref });
}

/** `<agent>` resolved to its id: an id is taken as it is, a name is looked up. */
export async function agentIdArg(ctx: RunContext): Promise<string> {
  const ref = arg(ctx, 0, "<agent>");
  return UUID.test(ref) ? ref : (await findAgent(ctx.client, ref)).id;
}

/** `<agent>` as the agent key and history routes take it: by id or by name, without a lookup. */
export function agentRefArg(ctx: RunContext): { agent_id: string } | { agent_name: string } {
  const ref = arg(ctx, 0, "<agent>");
  return UUID.test(ref) ? { agent_id: ref } : { agent_name: ref };
}

/** `<agent> <deployment-id>`: the agent resolved to its id. */
export async function deploymentRef(ctx: RunContext): Promise<{ agent_id: string; deployment_id: string }> {
  return { agent_id: await agentIdArg(ctx), deployment_id: arg(ctx, 1, "<deployment-id>") };
}

/** One record as the answer: JSON as is, or `keys` (default: all) as "key: value" lines. */
export function recordOut<T extends object>(row: T, keys?: readonly (keyof T & string)[]): Output {
  return { json: row, human: record(row, keys) };
}

/** A list as the answer: JSON as is, or a table (`empty` when there are no rows). */
export function tableOut<T>(rows: readonly T[], columns: Column<T>[], empty: string): Output {
  return { json: rows, human: table(rows, columns, empty) };
}

/** The answer of a delete or a revoke: JSON as is, or its message. */
export function messageOut(r: { id: string; message: string }): Output {
  return { json: r, human: `${r.message}\n` };
}

/** `--metadata`: the registration_metadata of a registration or a deployment. */
export const metadataOption: OptionSpec = {
  type: "string",
  value: "<json>",
  description: "registration_metadata, a JSON object",
};
