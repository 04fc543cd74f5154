import { AgentexError, type AgentexClient, type RouterOutputs } from "@agentex/client";
import type { Command, RunContext } from "./commands.ts";
import { UsageError } from "./commands.ts";

type TrackedEvent = RouterOutputs["events"]["watch"] extends AsyncIterable<infer T> ? T : never;
type ChangeEvent = TrackedEvent extends { data: infer D } ? D : never;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** One line per event for people: time, id, type, agent, and what changed. */
export function eventLine(e: ChangeEvent): string {
  const d = e.data as Record<string, unknown>;
  const parts = [e.at, `#${e.id}`, e.type.padEnd(18)];
  if (e.agent_id) parts.push(`agent=${e.agent_id}`);
  if (e.type === "production.changed") {
    parts.push(
      `from=${String(d.from_deployment_id ?? "-")}`,
      `to=${String(d.to_deployment_id ?? "-")}`,
      `cause=${String(d.cause)}`,
    );
  } else if (e.type === "health.changed") {
    if (e.deployment_id) parts.push(`deployment=${e.deployment_id}`);
    parts.push(`${String(d.from)} → ${String(d.to)}`);
    if (d.reason) parts.push(`(${String(d.reason)})`);
  } else if (e.type === "reset") {
    parts.push(String(d.reason));
  } else {
    if (e.deployment_id) parts.push(`deployment=${e.deployment_id}`);
    if (d.name) parts.push(`name=${String(d.name)}`);
    if (d.status) parts.push(`status=${String(d.status)}`);
  }
  return `${parts.join("  ")}\n`;
}

async function resolveAgent(client: AgentexClient, ref: string): Promise<string> {
  return UUID.test(ref)
    ? (await client.agents.get.query({ agent_id: ref })).id
    : (await client.agents.getByName.query({ agent_name: ref })).id;
}

/**
 * `agentex watch`: prints change events as they arrive (one JSON object per
 * line with --json), until interrupted, the server ends the stream, or
 * --count events were printed. Reconnects by itself, resuming after the last
 * event it printed.
 */
export const watchCommand: Command = {
  name: "watch",
  summary: "Print change events (agents, deployments, production, health) as they arrive",
  details:
    "Streams the live change feed (SSE) for every agent you may read, or one agent with --agent.\n" +
    "With --json, each event is one JSON object per line. Reconnects by itself and resumes after the\n" +
    "last event printed; --since <id> resumes after an event id from an earlier run.",
  options: {
    agent: { type: "string", value: "<agent>", description: "only this agent (id or name)" },
    since: { type: "string", value: "<event-id>", description: "replay the events after this id first" },
    count: { type: "string", value: "<n>", description: "exit after printing n events" },
  },
  async run(ctx: RunContext) {
    const { client, values } = ctx;
    const agentRef = typeof values.agent === "string" ? values.agent : undefined;
    const since = typeof values.since === "string" ? values.since : undefined;
    const countRaw = typeof values.count === "string" ? values.count : undefined;
    if (since !== undefined && !/^\d{1,15}$/.test(since))
      throw new UsageError(`--since must be an event id (digits), got '${since}'`);
    if (countRaw !== undefined && (!/^\d+$/.test(countRaw) || Number(countRaw) < 1)) {
      throw new UsageError(`--count must be a positive integer, got '${countRaw}'`);
    }
    const limit = countRaw === undefined ? Infinity : Number(countRaw);
    const agentId = agentRef ? await resolveAgent(client, agentRef) : undefined;
    const print = ctx.print ?? ((line: string) => process.stdout.write(line));
    let printed = 0;
    await new Promise<void>((resolve, reject) => {
      const sub = client.events.watch.subscribe(
        { ...(agentId ? { agent_id: agentId } : {}), ...(since ? { lastEventId: since } : {}) },
        {
          onData: (tracked) => {
            const event = tracked.data;
            print(eventLine(event), event);
            printed++;
            if (printed >= limit) {
              sub.unsubscribe();
              resolve();
            }
          },
          onError: (err) => {
            sub.unsubscribe();
            reject(
              err instanceof AgentexError
                ? err
                : AgentexError.fromUnknown(err, { path: "events.watch", attempts: 1 }),
            );
          },
          onComplete: () => resolve(),
        },
      );
      const stop = () => {
        sub.unsubscribe();
        resolve();
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
    return { json: null, human: "", streamed: true };
  },
};
