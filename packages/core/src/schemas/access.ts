import {
  AGENT_ROLES,
  API_KEY_TYPES,
  PRINCIPAL_KINDS,
  type AgentApiKeyRow,
  type ApiTokenRow,
  type GrantRow,
  type PrincipalRow,
} from "@agentex/db";
import { z } from "zod";
import type { Caller } from "../auth.ts";
import { AgentName, IsoTimestamp, Uuid, iso, text } from "./common.ts";

export const PrincipalKind = z.enum(PRINCIPAL_KINDS).meta({ id: "PrincipalKind" });

export const Principal = z
  .object({
    id: Uuid,
    name: z.string(),
    kind: PrincipalKind,
    admin: z.boolean(),
    can_create_agents: z.boolean(),
    created_at: IsoTimestamp.nullable(),
    disabled_at: IsoTimestamp.nullable().meta({
      description: "Set while an admin has disabled the principal: none of its tokens work",
    }),
  })
  .meta({ id: "Principal" });
export type Principal = z.infer<typeof Principal>;

export const Me = Principal.extend({
  agent_id: Uuid.nullable().meta({
    description: "Set when the caller is an agent authenticated by its API key",
  }),
}).meta({ id: "Me" });

/**
 * A JSON boolean and nothing else. The REST bridge (trpc-to-openapi) switches
 * every plain `z.boolean()` of an input to `Boolean()` coercion, request bodies
 * included, so `"admin": "false"` would mint an admin. It does not reach
 * inside a pipe.
 */
const JsonBoolean = z.boolean().pipe(z.boolean());

export const CreatePrincipalInput = z.object({
  name: text(128).min(1),
  // Agent principals are not created by hand: an agent authenticates with its API key.
  kind: z.enum(["user", "service_account"]),
  admin: JsonBoolean.default(false),
  can_create_agents: JsonBoolean.default(false),
});
export type CreatePrincipalInput = z.infer<typeof CreatePrincipalInput>;

export const Token = z
  .object({
    id: Uuid,
    principal_id: Uuid,
    name: z.string().nullable(),
    token_prefix: z.string().meta({ description: "The scheme prefix and at most 4 characters of the token" }),
    created_at: IsoTimestamp,
    expires_at: IsoTimestamp.nullable().meta({
      description: "After this instant the token no longer works; null: never expires",
    }),
  })
  .meta({ id: "Token" });
export const IssuedToken = Token.extend({
  token: z.string().meta({ description: "The bearer token. Shown once; only its hash is stored." }),
}).meta({ id: "IssuedToken" });
export const CreatedPrincipal = Principal.extend({ token: z.string(), token_id: Uuid }).meta({
  id: "CreatedPrincipal",
});
export type CreatedPrincipal = z.infer<typeof CreatedPrincipal>;

export const PrincipalIdInput = z.object({ principal_id: Uuid });
const TEN_YEARS_S = 10 * 365 * 24 * 3600;
export const CreateTokenInput = z
  .object({
    principal_id: Uuid,
    name: text(128).nullish(),
    expires_in_seconds: z
      .number()
      .int()
      .min(1)
      .max(TEN_YEARS_S)
      .nullish()
      .meta({ description: "The token stops working this many seconds from now" }),
    expires_at: IsoTimestamp.nullish().meta({
      description: "The token stops working at this instant (in the future)",
    }),
  })
  .superRefine((v, ctx) => {
    if (v.expires_at != null && v.expires_in_seconds != null) {
      ctx.addIssue({
        code: "custom",
        path: ["expires_at"],
        message: "give at most one of expires_at and expires_in_seconds",
      });
    } else if (v.expires_at != null && Date.parse(v.expires_at) <= Date.now()) {
      ctx.addIssue({ code: "custom", path: ["expires_at"], message: "must be in the future" });
    }
  });

/** The expiry a token creation asked for, or null. */
export function tokenExpiry(input: {
  expires_in_seconds?: number | null | undefined;
  expires_at?: string | null | undefined;
}): Date | null {
  if (input.expires_in_seconds != null) return new Date(Date.now() + input.expires_in_seconds * 1000);
  if (input.expires_at != null) return new Date(input.expires_at);
  return null;
}
export const TokenIdInput = z.object({ token_id: Uuid });

export const AgentRole = z.enum(AGENT_ROLES).meta({ id: "AgentRole" });
export const Grant = z
  .object({
    agent_id: Uuid,
    principal_id: Uuid,
    role: AgentRole,
    granted_by: Uuid.nullable(),
    created_at: IsoTimestamp,
  })
  .meta({ id: "Grant" });
export const GrantRef = z.object({ agent_id: Uuid, principal_id: Uuid });
export type GrantRef = z.infer<typeof GrantRef>;
export const SetGrantInput = GrantRef.extend({ role: AgentRole });
export type SetGrantInput = z.infer<typeof SetGrantInput>;

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

export function toPrincipal(row: PrincipalRow): Principal {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    admin: row.admin,
    can_create_agents: row.can_create_agents,
    created_at: iso(row.created_at),
    disabled_at: iso(row.disabled_at),
  };
}

/** The caller as `me` shows it: `row` is its principal row (an agent key has none). */
export function toMe(caller: Caller, row: PrincipalRow | undefined): z.infer<typeof Me> {
  return {
    id: caller.id,
    name: caller.name,
    kind: caller.kind,
    admin: caller.admin,
    can_create_agents: caller.can_create_agents,
    created_at: row ? row.created_at.toISOString() : null,
    disabled_at: null, // a disabled principal cannot authenticate
    agent_id: caller.agent_id,
  };
}

export function toToken(row: ApiTokenRow) {
  return {
    id: row.id,
    principal_id: row.principal_id,
    name: row.name,
    token_prefix: row.token_prefix,
    created_at: iso(row.created_at),
    expires_at: iso(row.expires_at),
  };
}

export function toGrant(row: GrantRow) {
  return {
    agent_id: row.agent_id,
    principal_id: row.principal_id,
    role: row.role,
    granted_by: row.granted_by,
    created_at: iso(row.created_at),
  };
}

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
