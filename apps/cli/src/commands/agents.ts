/** Registering agents and reading or deleting them: `register-build`, `register`, `agents ...`. */
import type { Agent, ListAgentsInput, RegisterBuildInput, RegisterInput } from "@agentex/client";
import {
  UUID,
  arg,
  findAgent,
  int,
  jsonObject,
  messageOut,
  metadataOption,
  onAgent,
  recordOut,
  requiredStr,
  str,
  tableOut,
  type Command,
  type OptionSpec,
  type Output,
} from "../command.ts";
import { AGENT_COLUMNS, AGENT_KEYS } from "../format.ts";

const agentOut = (agent: Agent): Output => recordOut(agent, AGENT_KEYS);

const descriptionOption: OptionSpec = {
  type: "string",
  value: "<text>",
  description: "what the agent does (default: empty)",
};
const inputTypeOption: OptionSpec = { type: "string", value: "<text|json>", description: "agent_input_type" };

export const registerBuild: Command = {
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
    description: descriptionOption,
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
};

export const register: Command = {
  name: "register",
  summary:
    "Register a running agent, or one deployment of it (--deployment-id); prints the agent and its API key",
  details:
    "With --deployment-id, marks that deployment Ready at --acp-url and leaves the agent row alone\n" +
    "(promote it with `agentex deployments promote`). Without it, points the agent itself at --acp-url.",
  options: {
    name: { type: "string", value: "<name>", description: "agent name", required: true },
    description: descriptionOption,
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
};

export const agentsList: Command = {
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
};

export const agentsGet: Command = {
  name: "agents get",
  summary: "Show one agent",
  ...onAgent(),
  async run(ctx) {
    return agentOut(await findAgent(ctx.client, arg(ctx, 0, "<agent>")));
  },
};

export const agentsDelete: Command = {
  name: "agents delete",
  summary: "Delete an agent (soft): it disappears, its grants and keys stop working",
  ...onAgent(),
  async run(ctx) {
    const ref = arg(ctx, 0, "<agent>");
    const res = UUID.test(ref)
      ? await ctx.client.agents.delete.mutate({ agent_id: ref })
      : await ctx.client.agents.deleteByName.mutate({ agent_name: ref });
    return messageOut(res);
  },
};
