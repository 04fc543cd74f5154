/** An agent's API keys and webhook signing secrets: `keys list|create|revoke`. */
import type { RouterInputs } from "@agentex/client";
import {
  agentRefArg,
  arg,
  onAgent,
  recordOut,
  requiredStr,
  str,
  tableOut,
  type Command,
} from "../command.ts";
import { KEY_COLUMNS } from "../format.ts";

export const keysList: Command = {
  name: "keys list",
  summary: "List an agent's API keys (owner/admin); never the secrets",
  ...onAgent(),
  async run(ctx) {
    const keys = await ctx.client.agentApiKeys.list.query({ ...agentRefArg(ctx), limit: 1000 });
    return tableOut(keys, KEY_COLUMNS, "(no keys)");
  },
};

export const keysCreate: Command = {
  name: "keys create",
  summary:
    "Create an API key or a GitHub/Slack webhook signing secret for an agent (owner/admin); shown once",
  ...onAgent([], "For github the name is the repository (owner/repo); for slack, the app id (api_app_id)."),
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
      ...agentRefArg(ctx),
      name: requiredStr(ctx.values, "name"),
      api_key_type: (str(ctx.values, "type") ??
        "external") as RouterInputs["agentApiKeys"]["create"]["api_key_type"],
      api_key: str(ctx.values, "value"),
    });
    return recordOut(key);
  },
};

export const keysRevoke: Command = {
  name: "keys revoke",
  summary: "Revoke an agent API key by id (owner/admin)",
  args: ["<key-id>"],
  async run(ctx) {
    const message = await ctx.client.agentApiKeys.revoke.mutate({ id: arg(ctx, 0, "<key-id>") });
    return { json: message, human: `${message}\n` };
  },
};
