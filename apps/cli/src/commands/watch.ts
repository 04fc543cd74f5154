import { AgentexError, type RouterOutputs } from "@agentex/client";
import { UsageError, findAgent, str, type Command, type RunContext } from "../command.ts";
import { text } from "../format.ts";

type TrackedEvent = RouterOutputs["events"]["watch"] extends AsyncIterable<infer T> ? T : never;
type ChangeEvent = TrackedEvent extends { data: infer D } ? D : never;

/** One line per event for people: time, id, type, agent, and what changed. */
function eventLine(e: ChangeEvent): string {
  const d = e.data;
  const parts = [e.at, `#${e.id}`, e.type.padEnd(18)];
  if (e.agent_id) parts.push(`agent=${e.agent_id}`);
  if (e.type === "production.changed") {
    parts.push(
      `from=${text(d.from_deployment_id ?? "-")}`,
      `to=${text(d.to_deployment_id ?? "-")}`,
      `cause=${text(d.cause)}`,
    );
  } else if (e.type === "health.changed") {
    if (e.deployment_id) parts.push(`deployment=${e.deployment_id}`);
    parts.push(`${text(d.from)} → ${text(d.to)}`);
    if (d.reason) parts.push(`(${text(d.reason)})`);
  } else if (e.type === "reset") {
    parts.push(text(d.reason));
  } else {
    if (e.deployment_id) parts.push(`deployment=${e.deployment_id}`);
    if (d.name) parts.push(`name=${text(d.name)}`);
    if (d.status) parts.push(`status=${text(d.status)}`);
  }
  return `${parts.join("  ")}\n`;
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
    const agentRef = str(values, "agent");
    const since = str(values, "since");
    const countRaw = str(values, "count");
    if (since !== undefined && !/^\d{1,15}$/.test(since))
      throw new UsageError(`--since must be an event id (digits), got '${since}'`);
    if (countRaw !== undefined && (!/^\d+$/.test(countRaw) || Number(countRaw) < 1)) {
      throw new UsageError(`--count must be a positive integer, got '${countRaw}'`);
    }
    const limit = countRaw === undefined ? Infinity : Number(countRaw);
    // An agent given by id is looked up too: a typo fails at once (404), not as a silent empty stream.
    const agentId = agentRef ? (await findAgent(client, agentRef)).id : undefined;
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
