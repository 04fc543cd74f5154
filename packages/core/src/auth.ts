import type { DB, Kysely, PrincipalKind } from "@agentex/db";
import type { AuthInvalidation } from "./lifecycle/actor.ts";
import { AGENT_KEY_PREFIX, hashCredential, sameHash } from "./crypto.ts";
import { findKeyCredential, findTokenCredential } from "./queries/credentials.ts";

/** Who is calling: a principal (by its token) or an agent (by its API key). Not the `principals` row. */
export interface Caller {
  id: string;
  name: string;
  kind: PrincipalKind;
  admin: boolean;
  can_create_agents: boolean;
  /** Set for kind `agent`: the agent whose API key authenticated the call. */
  agent_id: string | null;
  /** The token or key that authenticated this call. */
  credential_id: string | null;
  /** When the credential stops working, if it carries an expiry; caches check it on every request. */
  expires_at?: Date | null;
}

/**
 * One indexed lookup by the credential's hash. Revoked or expired tokens,
 * tokens of disabled or deleted principals, and keys of deleted agents do not
 * authenticate: every check is in the same query, so a revocation takes
 * effect on the very next request.
 */
export async function authenticate(db: Kysely<DB>, credential: string): Promise<Caller | null> {
  if (credential.length > 256) return null;
  const hash = hashCredential(credential);
  if (credential.startsWith(AGENT_KEY_PREFIX)) {
    const key = await findKeyCredential(db, hash);
    if (!key || !sameHash(key.key_hash, hash)) return null;
    return {
      id: key.agent_id,
      name: key.agent_name,
      kind: "agent",
      admin: false,
      can_create_agents: false,
      agent_id: key.agent_id,
      credential_id: key.key_id,
    };
  }
  const token = await findTokenCredential(db, hash);
  if (!token || !sameHash(token.token_hash, hash)) return null;
  const { token_id, token_hash: _, ...principal } = token;
  return { ...principal, agent_id: null, credential_id: token_id };
}

/** The principal id to record as creator or grantor; agent keys are not principals rows. */
export function actorId(p: Caller): string | null {
  return p.kind === "agent" ? null : p.id;
}

/**
 * How a request's credential is resolved when the host keeps a cache (the
 * workers' AuthCache); the same object is told of every invalidation.
 */
export interface CredentialCache extends AuthInvalidation {
  authenticate(credential: string): Promise<Caller | null>;
}
