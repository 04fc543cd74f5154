/** Who may do what on an agent: `grants list|set|revoke`. */
import type { SetGrantInput } from "@agentex/client";
import {
  agentIdArg,
  arg,
  messageOut,
  onAgent,
  recordOut,
  requiredStr,
  tableOut,
  type Command,
  type RunContext,
} from "../command.ts";
import { GRANT_COLUMNS } from "../format.ts";

/** `<agent> <principal-id>`: the agent resolved to its id. */
async function grantRef(ctx: RunContext): Promise<{ agent_id: string; principal_id: string }> {
  return { agent_id: await agentIdArg(ctx), principal_id: arg(ctx, 1, "<principal-id>") };
}

export const grantsList: Command = {
  name: "grants list",
  summary: "Who may do what on an agent (owner/admin)",
  ...onAgent(),
  async run(ctx) {
    const grants = await ctx.client.grants.list.query({ agent_id: await agentIdArg(ctx) });
    return tableOut(grants, GRANT_COLUMNS, "(no grants)");
  },
};

export const grantsSet: Command = {
  name: "grants set",
  summary: "Grant a principal a role on an agent, or change it (owner/admin)",
  ...onAgent(
    ["<principal-id>"],
    "Roles: viewer (read), deployer (read, deployments, register), owner (all, incl. delete and sharing).",
  ),
  options: {
    role: { type: "string", value: "<viewer|deployer|owner>", description: "the role", required: true },
  },
  async run(ctx) {
    const grant = await ctx.client.grants.set.mutate({
      ...(await grantRef(ctx)),
      role: requiredStr(ctx.values, "role") as SetGrantInput["role"],
    });
    return recordOut(grant);
  },
};

export const grantsRevoke: Command = {
  name: "grants revoke",
  summary: "Revoke a principal's role on an agent (an agent keeps at least one owner)",
  ...onAgent(["<principal-id>"]),
  async run(ctx) {
    return messageOut(await ctx.client.grants.revoke.mutate(await grantRef(ctx)));
  },
};
