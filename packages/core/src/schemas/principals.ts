import { PRINCIPAL_KINDS, type ApiTokenRow, type PrincipalRow } from "@agentex/db";
import { z } from "zod";
import type { Caller } from "../auth.ts";
import { IsoTimestamp, Uuid, iso, text } from "./common.ts";

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
