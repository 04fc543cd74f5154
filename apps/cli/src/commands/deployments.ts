/** An agent's deployments: `deployments create|list|get|delete|history` (promote is with the ledger, promotions.ts). */
import type { Deployment } from "@agentex/client";
import {
  agentIdArg,
  agentRefArg,
  deploymentRef,
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
  type Output,
} from "../command.ts";
import { DEPLOYMENT_COLUMNS, DEPLOYMENT_KEYS, HISTORY_COLUMNS } from "../format.ts";

export const deploymentOut = (d: Deployment): Output => recordOut(d, DEPLOYMENT_KEYS);

export const deploymentsCreate: Command = {
  name: "deployments create",
  summary: "Create a Pending deployment of an agent",
  ...onAgent([], "The running deployment then registers itself: agentex register --deployment-id <id> ..."),
  options: {
    image: { type: "string", value: "<image>", description: "docker image (full URI)", required: true },
    "sgp-deploy-id": { type: "string", value: "<id>", description: "sgp_deploy_id" },
    "helm-release-name": { type: "string", value: "<name>", description: "helm_release_name" },
    metadata: metadataOption,
  },
  async run(ctx) {
    const { client, values } = ctx;
    const deployment = await client.deployments.create.mutate({
      agent_id: await agentIdArg(ctx),
      docker_image: requiredStr(values, "image"),
      sgp_deploy_id: str(values, "sgp-deploy-id"),
      helm_release_name: str(values, "helm-release-name"),
      registration_metadata: jsonObject(values, "metadata"),
    });
    return deploymentOut(deployment);
  },
};

export const deploymentsList: Command = {
  name: "deployments list",
  summary: "List an agent's live deployments, newest first",
  ...onAgent(),
  options: {
    limit: { type: "string", value: "<n>", description: "at most this many, 1-1000 (default 100)" },
  },
  async run(ctx) {
    const deployments = await ctx.client.deployments.list.query({
      agent_id: await agentIdArg(ctx),
      limit: int(ctx.values, "limit"),
    });
    return tableOut(deployments, DEPLOYMENT_COLUMNS, "(no deployments)");
  },
};

export const deploymentsGet: Command = {
  name: "deployments get",
  summary: "Show one deployment",
  ...onAgent(["<deployment-id>"]),
  async run(ctx) {
    return deploymentOut(await ctx.client.deployments.get.query(await deploymentRef(ctx)));
  },
};

export const deploymentsDelete: Command = {
  name: "deployments delete",
  summary: "Delete a deployment (soft); the production deployment cannot be deleted",
  ...onAgent(["<deployment-id>"]),
  async run(ctx) {
    return messageOut(await ctx.client.deployments.delete.mutate(await deploymentRef(ctx)));
  },
};

export const deploymentsHistory: Command = {
  name: "deployments history",
  summary: "An agent's deployment history: one row per new commit it was registered with, newest first",
  ...onAgent(
    [],
    "Recorded by register from registration_metadata (commit_hash or agent_commit, branch_name, author_name, author_email, build_timestamp).",
  ),
  options: {
    commit: { type: "string", value: "<hash>", description: "only this commit" },
    limit: { type: "string", value: "<n>", description: "page size (default 50)" },
    page: { type: "string", value: "<n>", description: "page number (default 1)" },
  },
  async run(ctx) {
    const rows = await ctx.client.deploymentHistory.list.query({
      ...agentRefArg(ctx),
      commit_hash: str(ctx.values, "commit"),
      limit: int(ctx.values, "limit"),
      page_number: int(ctx.values, "page"),
    });
    return tableOut(rows, HISTORY_COLUMNS, "(no deployment history)");
  },
};
