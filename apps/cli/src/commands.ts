/** Every command of the CLI, as data: its name, help, options and what it calls. */
import type {
  Agent,
  Deployment,
  ListAgentsInput,
  Promotion,
  RegisterBuildInput,
  RegisterInput,
  RouterInputs,
  SetGrantInput,
} from "@agentex/client";
import {
  AGENT_ARG_HELP,
  UUID,
  UsageError,
  agentId,
  arg,
  findAgent,
  int,
  jsonObject,
  requiredStr,
  str,
  type Command,
  type OptionSpec,
  type Output,
  type RunContext,
} from "./command.ts";
import {
  AGENT_COLUMNS,
  AGENT_KEYS,
  DEPLOYMENT_COLUMNS,
  DEPLOYMENT_KEYS,
  GRANT_COLUMNS,
  HISTORY_COLUMNS,
  KEY_COLUMNS,
  PRINCIPAL_COLUMNS,
  PROMOTION_COLUMNS,
  PROMOTION_KEYS,
  record,
  table,
  type Column,
} from "./format.ts";
import { watchCommand } from "./watch.ts";

/** The positional arguments of a command about one agent, and their help. */
const ON_AGENT = { args: ["<agent>"], details: AGENT_ARG_HELP };
const ON_DEPLOYMENT = { args: ["<agent>", "<deployment-id>"], details: AGENT_ARG_HELP };
const ON_GRANT = { args: ["<agent>", "<principal-id>"], details: AGENT_ARG_HELP };

/** Agentex's key and history routes take the agent by id or by name. */
function agentRefInput(ref: string): { agent_id: string } | { agent_name: string } {
  return UUID.test(ref) ? { agent_id: ref } : { agent_name: ref };
}

/** `<agent> <deployment-id>`: the agent resolved to its id. */
async function deploymentRef(ctx: RunContext): Promise<{ agent_id: string; deployment_id: string }> {
  return {
    agent_id: await agentId(ctx.client, arg(ctx, 0, "<agent>")),
    deployment_id: arg(ctx, 1, "<deployment-id>"),
  };
}

/** `<agent> <principal-id>`: the agent resolved to its id. */
async function grantRef(ctx: RunContext): Promise<{ agent_id: string; principal_id: string }> {
  return {
    agent_id: await agentId(ctx.client, arg(ctx, 0, "<agent>")),
    principal_id: arg(ctx, 1, "<principal-id>"),
  };
}

/** One record as the answer: JSON as is, or `keys` (default: all) as "key: value" lines. */
function recordOut<T extends object>(row: T, keys?: readonly (keyof T & string)[]): Output {
  return { json: row, human: record(row, keys) };
}

/** A list as the answer: JSON as is, or a table (`empty` when there are no rows). */
function tableOut<T>(rows: readonly T[], columns: Column<T>[], empty: string): Output {
  return { json: rows, human: table(rows, columns, empty) };
}

const agentOut = (agent: Agent): Output => recordOut(agent, AGENT_KEYS);
const deploymentOut = (d: Deployment): Output => recordOut(d, DEPLOYMENT_KEYS);
const messageOut = (r: { id: string; message: string }): Output => ({ json: r, human: `${r.message}\n` });

/** `--expect <id|none>`: the compare-and-swap expectation; `none` means "no production deployment yet". */
function expected(values: RunContext["values"]): string | null | undefined {
  const v = str(values, "expect");
  if (v === undefined) return undefined;
  if (v === "none") return null;
  if (!UUID.test(v)) throw new UsageError(`--expect must be a deployment id or 'none', got '${v}'`);
  return v;
}

const expectOption: OptionSpec = {
  type: "string",
  value: "<id|none>",
  description:
    "only if production is this deployment ('none': no production yet); else exit 3 (409 PRODUCTION_CHANGED)",
};
const reasonOption: OptionSpec = {
  type: "string",
  value: "<text>",
  description: "why; kept in the promotion ledger",
};
const idempotencyOption: OptionSpec = {
  type: "string",
  value: "<key>",
  description: "retry safely: the same key replays the first answer instead of acting twice",
};

const promotionOut = (p: Promotion): Output => recordOut(p, PROMOTION_KEYS);

const metadataOption: OptionSpec = {
  type: "string",
  value: "<json>",
  description: "registration_metadata, a JSON object",
};
const inputTypeOption: OptionSpec = { type: "string", value: "<text|json>", description: "agent_input_type" };

export const COMMANDS: Command[] = [
  {
    name: "register-build",
    summary: "Register an agent at build time (idempotent by name); prints the agent",
    details:
      "Creates a BuildOnly agent owned by you, so it has a stable id and can be shared before anything runs.\n" +
      "If a live agent of that name exists and you can read it, it is returned unchanged.",
    options: {
      name: {
        type: "string",
        value: "<name>",
        description: "agent name: ^[a-z0-9-]+$, 1-63 chars",
        required: true,
      },
      description: { type: "string", value: "<text>", description: "what the agent does (default: empty)" },
      metadata: metadataOption,
      "input-type": inputTypeOption,
    },
    async run({ client, values }) {
      const agent = await client.agents.registerBuild.mutate({
        name: requiredStr(values, "name"),
        description: str(values, "description") ?? "",
        registration_metadata: jsonObject(values, "metadata"),
        agent_input_type: str(values, "input-type") as RegisterBuildInput["agent_input_type"],
      });
      return agentOut(agent);
    },
  },
  {
    name: "register",
    summary:
      "Register a running agent, or one deployment of it (--deployment-id); prints the agent and its API key",
    details:
      "With --deployment-id, marks that deployment Ready at --acp-url and leaves the agent row alone\n" +
      "(promote it with `agentex deployments promote`). Without it, points the agent itself at --acp-url.",
    options: {
      name: { type: "string", value: "<name>", description: "agent name", required: true },
      description: { type: "string", value: "<text>", description: "what the agent does (default: empty)" },
      "acp-url": {
        type: "string",
        value: "<url>",
        description: "where the agent (deployment) serves ACP",
        required: true,
      },
      "acp-type": {
        type: "string",
        value: "<sync|async|agentic>",
        description: "ACP flavour",
        required: true,
      },
      "agent-id": {
        type: "string",
        value: "<id>",
        description: "register this agent id (else found by name)",
      },
      "deployment-id": {
        type: "string",
        value: "<id>",
        description: "deployment-scoped: sets registration_metadata.deployment_id",
      },
      metadata: metadataOption,
      "input-type": inputTypeOption,
    },
    async run({ client, values }) {
      const deploymentId = str(values, "deployment-id");
      const metadata = jsonObject(values, "metadata");
      const registration_metadata = deploymentId ? { ...metadata, deployment_id: deploymentId } : metadata;
      const agent = await client.agents.register.mutate({
        name: requiredStr(values, "name"),
        description: str(values, "description") ?? "",
        acp_url: requiredStr(values, "acp-url"),
        acp_type: requiredStr(values, "acp-type") as RegisterInput["acp_type"],
        agent_id: str(values, "agent-id"),
        registration_metadata,
        agent_input_type: str(values, "input-type") as RegisterInput["agent_input_type"],
      });
      return recordOut(agent, [...AGENT_KEYS, "agent_api_key"]);
    },
  },
  {
    name: "agents list",
    summary: "List the agents you can read",
    options: {
      limit: { type: "string", value: "<n>", description: "page size, 1-1000 (default 50)" },
      page: { type: "string", value: "<n>", description: "page number, from 1 (default 1)" },
      "order-by": {
        type: "string",
        value: "<field>",
        description: "created_at | updated_at | name | registered_at",
      },
      "order-direction": { type: "string", value: "<asc|desc>", description: "default desc" },
      status: {
        type: "string",
        value: "<status>",
        description: "Ready | Failed | Unknown | Unhealthy | BuildOnly",
      },
    },
    async run({ client, values }) {
      const agents = await client.agents.list.query({
        limit: int(values, "limit"),
        page_number: int(values, "page"),
        order_by: str(values, "order-by") as ListAgentsInput["order_by"],
        order_direction: str(values, "order-direction") as ListAgentsInput["order_direction"],
        status: str(values, "status") as ListAgentsInput["status"],
      });
      return tableOut(agents, AGENT_COLUMNS, "(no agents)");
    },
  },
  {
    name: "agents get",
    summary: "Show one agent",
    ...ON_AGENT,
    async run(ctx) {
      return agentOut(await findAgent(ctx.client, arg(ctx, 0, "<agent>")));
    },
  },
  {
    name: "agents delete",
    summary: "Delete an agent (soft): it disappears, its grants and keys stop working",
    ...ON_AGENT,
    async run(ctx) {
      const ref = arg(ctx, 0, "<agent>");
      const res = UUID.test(ref)
        ? await ctx.client.agents.delete.mutate({ agent_id: ref })
        : await ctx.client.agents.deleteByName.mutate({ agent_name: ref });
      return messageOut(res);
    },
  },
  {
    name: "deployments create",
    summary: "Create a Pending deployment of an agent",
    args: ["<agent>"],
    details: `${AGENT_ARG_HELP}\nThe running deployment then registers itself: agentex register --deployment-id <id> ...`,
    options: {
      image: { type: "string", value: "<image>", description: "docker image (full URI)", required: true },
      "sgp-deploy-id": { type: "string", value: "<id>", description: "sgp_deploy_id" },
      "helm-release-name": { type: "string", value: "<name>", description: "helm_release_name" },
      metadata: metadataOption,
    },
    async run(ctx) {
      const { client, values } = ctx;
      const deployment = await client.deployments.create.mutate({
        agent_id: await agentId(client, arg(ctx, 0, "<agent>")),
        docker_image: requiredStr(values, "image"),
        sgp_deploy_id: str(values, "sgp-deploy-id"),
        helm_release_name: str(values, "helm-release-name"),
        registration_metadata: jsonObject(values, "metadata"),
      });
      return deploymentOut(deployment);
    },
  },
  {
    name: "deployments list",
    summary: "List an agent's live deployments, newest first",
    ...ON_AGENT,
    options: {
      limit: { type: "string", value: "<n>", description: "at most this many, 1-1000 (default 100)" },
    },
    async run(ctx) {
      const deployments = await ctx.client.deployments.list.query({
        agent_id: await agentId(ctx.client, arg(ctx, 0, "<agent>")),
        limit: int(ctx.values, "limit"),
      });
      return tableOut(deployments, DEPLOYMENT_COLUMNS, "(no deployments)");
    },
  },
  {
    name: "deployments get",
    summary: "Show one deployment",
    ...ON_DEPLOYMENT,
    async run(ctx) {
      return deploymentOut(await ctx.client.deployments.get.query(await deploymentRef(ctx)));
    },
  },
  {
    name: "deployments promote",
    summary: "Promote a Ready deployment to production (atomic cutover)",
    args: ["<agent>", "<deployment-id>"],
    details:
      `${AGENT_ARG_HELP}\nThe deployment must be Ready (registered); otherwise exit code 3.\n` +
      "With --expect, production must still be what you reviewed (compare-and-swap); otherwise exit code 3\n" +
      "and the current production deployment is printed.",
    options: { expect: expectOption, reason: reasonOption, "idempotency-key": idempotencyOption },
    async run(ctx) {
      const expectation = expected(ctx.values); // a bad --expect is a usage error before any call
      return deploymentOut(
        await ctx.client.deployments.promote.mutate({
          ...(await deploymentRef(ctx)),
          expected_current_deployment_id: expectation,
          reason: str(ctx.values, "reason"),
          idempotency_key: str(ctx.values, "idempotency-key"),
        }),
      );
    },
  },
  {
    name: "promotions",
    summary: "An agent's promotion ledger, newest first: who changed production, when and why",
    args: ["<agent>"],
    details: `${AGENT_ARG_HELP}\nKinds: promote, rollback, cleared (a legacy register cleared production).`,
    options: {
      limit: { type: "string", value: "<n>", description: "rows per page, 1-1000 (default 50)" },
      cursor: { type: "string", value: "<cursor>", description: "next_cursor of the previous page" },
      at: { type: "string", value: "<iso-time>", description: "instead: what was production at that time" },
    },
    async run(ctx) {
      const id = await agentId(ctx.client, arg(ctx, 0, "<agent>"));
      const at = str(ctx.values, "at");
      if (at !== undefined) {
        const answer = await ctx.client.promotions.productionAt.query({ agent_id: id, at });
        const human = record({
          at: answer.at,
          deployment_id: answer.deployment_id,
          ledger_row: answer.promotion?.id ?? null,
        });
        return { json: answer, human };
      }
      const page = await ctx.client.promotions.list.query({
        agent_id: id,
        limit: int(ctx.values, "limit"),
        cursor: str(ctx.values, "cursor"),
      });
      const human =
        table(page.items, PROMOTION_COLUMNS, "(no production changes yet)") +
        (page.next_cursor ? `more: --cursor ${page.next_cursor}\n` : "");
      return { json: page, human };
    },
  },
  {
    name: "rollback",
    summary: "Promote the previous production deployment (per the ledger); again walks further back",
    args: ["<agent>"],
    details:
      `${AGENT_ARG_HELP}\nThe target must still be Ready and not deleted; otherwise exit code 3 (412) naming it.\n` +
      "--to rolls back to a given earlier production deployment instead.",
    options: {
      to: {
        type: "string",
        value: "<deployment-id>",
        description: "an earlier production deployment to return to",
      },
      reason: reasonOption,
      expect: expectOption,
      "idempotency-key": idempotencyOption,
    },
    async run(ctx) {
      const expectation = expected(ctx.values);
      const result = await ctx.client.promotions.rollback.mutate({
        agent_id: await agentId(ctx.client, arg(ctx, 0, "<agent>")),
        to_deployment_id: str(ctx.values, "to"),
        reason: str(ctx.values, "reason"),
        expected_current_deployment_id: expectation,
        idempotency_key: str(ctx.values, "idempotency-key"),
      });
      const human =
        record(result.deployment, DEPLOYMENT_KEYS) +
        (result.promotion ? `\n${promotionOut(result.promotion).human}` : "");
      return { json: result, human };
    },
  },
  {
    name: "deployments delete",
    summary: "Delete a deployment (soft); the production deployment cannot be deleted",
    ...ON_DEPLOYMENT,
    async run(ctx) {
      return messageOut(await ctx.client.deployments.delete.mutate(await deploymentRef(ctx)));
    },
  },
  {
    name: "deployments history",
    summary: "An agent's deployment history: one row per new commit it was registered with, newest first",
    args: ["<agent>"],
    details: `${AGENT_ARG_HELP}\nRecorded by register from registration_metadata (commit_hash or agent_commit, branch_name, author_name, author_email, build_timestamp).`,
    options: {
      commit: { type: "string", value: "<hash>", description: "only this commit" },
      limit: { type: "string", value: "<n>", description: "page size (default 50)" },
      page: { type: "string", value: "<n>", description: "page number (default 1)" },
    },
    async run(ctx) {
      const rows = await ctx.client.deploymentHistory.list.query({
        ...agentRefInput(arg(ctx, 0, "<agent>")),
        commit_hash: str(ctx.values, "commit"),
        limit: int(ctx.values, "limit"),
        page_number: int(ctx.values, "page"),
      });
      return tableOut(rows, HISTORY_COLUMNS, "(no deployment history)");
    },
  },
  {
    name: "keys list",
    summary: "List an agent's API keys (owner/admin); never the secrets",
    ...ON_AGENT,
    async run(ctx) {
      const keys = await ctx.client.agentApiKeys.list.query({
        ...agentRefInput(arg(ctx, 0, "<agent>")),
        limit: 1000,
      });
      return tableOut(keys, KEY_COLUMNS, "(no keys)");
    },
  },
  {
    name: "keys create",
    summary:
      "Create an API key or a GitHub/Slack webhook signing secret for an agent (owner/admin); shown once",
    args: ["<agent>"],
    details: `${AGENT_ARG_HELP}\nFor github the name is the repository (owner/repo); for slack, the app id (api_app_id).`,
    options: {
      name: { type: "string", value: "<name>", description: "key name", required: true },
      type: { type: "string", value: "<external|github|slack>", description: "default external" },
      value: {
        type: "string",
        value: "<secret>",
        description: "use this value (16+ characters) instead of a generated one",
      },
    },
    async run(ctx) {
      const key = await ctx.client.agentApiKeys.create.mutate({
        ...agentRefInput(arg(ctx, 0, "<agent>")),
        name: requiredStr(ctx.values, "name"),
        api_key_type: (str(ctx.values, "type") ??
          "external") as RouterInputs["agentApiKeys"]["create"]["api_key_type"],
        api_key: str(ctx.values, "value"),
      });
      return recordOut(key);
    },
  },
  {
    name: "keys revoke",
    summary: "Revoke an agent API key by id (owner/admin)",
    args: ["<key-id>"],
    async run(ctx) {
      const message = await ctx.client.agentApiKeys.revoke.mutate({ id: arg(ctx, 0, "<key-id>") });
      return { json: message, human: `${message}\n` };
    },
  },
  {
    name: "grants list",
    summary: "Who may do what on an agent (owner/admin)",
    ...ON_AGENT,
    async run(ctx) {
      const grants = await ctx.client.grants.list.query({
        agent_id: await agentId(ctx.client, arg(ctx, 0, "<agent>")),
      });
      return tableOut(grants, GRANT_COLUMNS, "(no grants)");
    },
  },
  {
    name: "grants set",
    summary: "Grant a principal a role on an agent, or change it (owner/admin)",
    args: ["<agent>", "<principal-id>"],
    details: `${AGENT_ARG_HELP}\nRoles: viewer (read), deployer (read, deployments, register), owner (all, incl. delete and sharing).`,
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
  },
  {
    name: "grants revoke",
    summary: "Revoke a principal's role on an agent (an agent keeps at least one owner)",
    ...ON_GRANT,
    async run(ctx) {
      return messageOut(await ctx.client.grants.revoke.mutate(await grantRef(ctx)));
    },
  },
  {
    name: "me",
    summary: "Show the calling principal (whose token this is)",
    async run({ client }) {
      const me = await client.me.get.query();
      return recordOut(me);
    },
  },
  {
    name: "principals create",
    summary: "Create a user or service account and its first token (admin)",
    details: "The token is shown once; only its hash is stored.",
    options: {
      name: { type: "string", value: "<name>", description: "principal name", required: true },
      kind: { type: "string", value: "<user|service_account>", description: "default user" },
      admin: { type: "boolean", description: "make it an admin" },
      "can-create-agents": { type: "boolean", description: "allow it to create agents" },
    },
    async run({ client, values }) {
      const created = await client.principals.create.mutate({
        name: requiredStr(values, "name"),
        kind: (str(values, "kind") ?? "user") as RouterInputs["principals"]["create"]["kind"],
        admin: values.admin === true,
        can_create_agents: values["can-create-agents"] === true,
      });
      return recordOut(created);
    },
  },
  {
    name: "principals list",
    summary: "List principals (admin)",
    async run({ client }) {
      const principals = await client.principals.list.query();
      return tableOut(principals, PRINCIPAL_COLUMNS, "(no principals)");
    },
  },
  watchCommand,
];
