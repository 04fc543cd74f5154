import { API_KEY_TYPES, type AgentApiKeyRow } from "@agentex/db";
import { z } from "zod";
import { AgentName, IsoTimestamp, Uuid, iso, text } from "./common.ts";

export const ApiKeyType = z.enum(API_KEY_TYPES).meta({ id: "AgentAPIKeyType" });
export const AgentApiKey = z
  .object({
    id: Uuid,
    agent_id: Uuid,
    name: z.string(),
    api_key_type: ApiKeyType,
    key_prefix: z
      .string()
      .meta({ description: "The scheme prefix and 4 characters at most: enough to tell keys apart" }),
    created_at: IsoTimestamp,
  })
  .meta({ id: "AgentAPIKey" });
export const RotatedAgentKey = AgentApiKey.extend({
  agent_api_key: z.string().meta({
    description:
      "The agent's new internal key. The old one stopped working; pods get this one at their next register.",
  }),
}).meta({ id: "RotatedAgentKey" });
export type RotatedAgentKey = z.infer<typeof RotatedAgentKey>;
export const CreatedAgentApiKey = AgentApiKey.extend({
  api_key: z.string().meta({
    description: "The key. Shown once; only its hash (or, for github/slack, a sealed copy) is stored.",
  }),
}).meta({ id: "CreatedAgentAPIKey" });

/** Key names: Agentex's plain names, GitHub repository full names (owner/repo), Slack app ids. */
export const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,255}$/;
export const KeyName = z
  .string()
  .regex(KEY_NAME, "must be 1-256 of A-Z a-z 0-9 . _ : @ / - (starting with a letter or digit)");
/** A path parameter carrying a key name: it may arrive percent-encoded (owner%2Frepo); checked once decoded. */
const KeyNameParam = z.string().min(1).max(800);

/**
 * A caller-chosen key or signing secret. Long enough not to be guessed, and
 * never in the server's own `agx_` schemes, so it can never pass for a key the
 * server minted.
 */
export const CallerSecret = text(256)
  .min(16, "must be at least 16 characters")
  .regex(/^\S+$/, "must not contain whitespace")
  .refine(
    (s) => !s.startsWith("agx_"),
    "must not start with 'agx_' (reserved for keys the server generates)",
  );

const AgentRefFields = {
  agent_id: Uuid.nullish().meta({ description: "The agent, by id (give this or agent_name)" }),
  agent_name: AgentName.nullish().meta({ description: "The agent, by name (give this or agent_id)" }),
};
const ByNameKeyType = ApiKeyType.default("external").meta({
  description: "Which kind of key the name refers to (external by default)",
});

export const CreateAgentApiKeyInput = z.object({
  ...AgentRefFields,
  name: KeyName,
  // The internal key is minted by register, never by hand.
  api_key_type: z.enum(["external", "github", "slack"]).default("external"),
  api_key: CallerSecret.nullish().meta({
    description:
      "Optionally the key value (e.g. a webhook secret shared with GitHub or Slack); generated when omitted",
  }),
});
export type CreateAgentApiKeyInput = z.infer<typeof CreateAgentApiKeyInput>;
export const ListAgentApiKeysInput = z.object({
  ...AgentRefFields,
  limit: z.coerce.number().int().min(1).max(1000).default(50),
  page_number: z.coerce.number().int().min(1).max(1_000_000).default(1),
});
export const AgentApiKeyIdInput = z.object({ id: Uuid });
export const AgentApiKeyNameInput = z.object({
  name: KeyNameParam,
  ...AgentRefFields,
  api_key_type: ByNameKeyType,
});
export const DeleteAgentApiKeyByNameInput = z.object({
  api_key_name: KeyNameParam,
  ...AgentRefFields,
  api_key_type: ByNameKeyType,
});

export const WebhookSource = z.enum(["github", "slack"]);
export const CreateWebhookTriggerInput = z.object({
  agent_name: AgentName.meta({ description: "The agent the webhook drives" }),
  source: WebhookSource.default("github"),
  name: KeyName.meta({
    description: "Signature lookup key: the repository full_name (github) or api_app_id (slack)",
  }),
  forward_path: text(1024)
    .min(1)
    .regex(
      /^[A-Za-z0-9._~!$&'()*+,;=:@-]+(\/[A-Za-z0-9._~!$&'()*+,;=:@-]+)*$/,
      "must be a relative path of plain segments, e.g. github-pr/123",
    )
    .refine(
      (p) => p.split("/").every((seg) => seg !== "." && seg !== ".."),
      "must not contain . or .. segments",
    )
    .meta({ description: "The agent's own route, appended to /api/agents/forward/name/{agent_name}/" }),
  secret: CallerSecret.nullish().meta({
    description: "Signing secret; GitHub: generated when omitted. Slack: required (the app's Signing Secret)",
  }),
  base_url: z
    .url({ protocol: /^https?$/ })
    .max(2048)
    .nullish()
    .meta({
      description: "This server's public origin, to build webhook_url (e.g. https://agentex.example.com)",
    }),
});
export type CreateWebhookTriggerInput = z.infer<typeof CreateWebhookTriggerInput>;
export const WebhookTrigger = z
  .object({
    key_id: Uuid,
    agent_name: z.string(),
    source: WebhookSource,
    name: z.string(),
    secret: z
      .string()
      .meta({ description: "The signing secret, shown once: paste it into the source's webhook settings" }),
    webhook_path: z.string(),
    webhook_url: z.string().nullable(),
  })
  .meta({ id: "WebhookTrigger" });

export function toAgentApiKey(row: AgentApiKeyRow) {
  return {
    id: row.id,
    agent_id: row.agent_id,
    name: row.name,
    api_key_type: row.api_key_type,
    key_prefix: row.key_prefix,
    created_at: iso(row.created_at),
  };
}
