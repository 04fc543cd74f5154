/** Principals and their tokens: `me`, `principals create|list`. */
import type { RouterInputs } from "@agentex/client";
import { recordOut, requiredStr, str, tableOut, type Command } from "../command.ts";
import { PRINCIPAL_COLUMNS } from "../format.ts";

export const me: Command = {
  name: "me",
  summary: "Show the calling principal (whose token this is)",
  async run({ client }) {
    return recordOut(await client.me.get.query());
  },
};

export const principalsCreate: Command = {
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
};

export const principalsList: Command = {
  name: "principals list",
  summary: "List principals (admin)",
  async run({ client }) {
    return tableOut(await client.principals.list.query(), PRINCIPAL_COLUMNS, "(no principals)");
  },
};
