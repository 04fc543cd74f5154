/** The REST table of SPEC "Procedures and REST paths" (agents and deployments). */
export const LIFECYCLE_ROUTES = [
  "POST /agents/register-build",
  "POST /agents/register",
  "GET /agents/{agent_id}",
  "GET /agents/name/{agent_name}",
  "GET /agents",
  "DELETE /agents/{agent_id}",
  "DELETE /agents/name/{agent_name}",
  "POST /agents/{agent_id}/deployments",
  "GET /agents/{agent_id}/deployments",
  "GET /agents/{agent_id}/deployments/{deployment_id}",
  "POST /agents/{agent_id}/deployments/{deployment_id}/promote",
  "DELETE /agents/{agent_id}/deployments/{deployment_id}",
] as const;

/** The REST table of SPEC "Identity and access". */
export const ACCESS_ROUTES = [
  "GET /me",
  "POST /principals",
  "GET /principals",
  "POST /principals/{principal_id}/tokens",
  "DELETE /tokens/{token_id}",
  "GET /agents/{agent_id}/grants",
  "PUT /agents/{agent_id}/grants/{principal_id}",
  "DELETE /agents/{agent_id}/grants/{principal_id}",
  "POST /agent_api_keys",
  "GET /agent_api_keys",
  "DELETE /agent_api_keys/{id}",
  // Issue 9: key rotation and principal administration.
  "POST /agents/{agent_id}/keys/rotate",
  "POST /principals/{principal_id}/disable",
  "POST /principals/{principal_id}/enable",
  "DELETE /principals/{principal_id}",
] as const;

/** Agentex routes served for parity (issue 12): the whole agent API key surface and deployment history. */
export const PARITY_ROUTES = [
  "GET /agent_api_keys/{id}",
  "GET /agent_api_keys/name/{name}",
  "DELETE /agent_api_keys/name/{api_key_name}",
  "POST /agent_api_keys/webhook-trigger",
  "GET /deployment-history",
  "GET /deployment-history/{deployment_id}",
] as const;

export const SPEC_ROUTES: readonly string[] = [...LIFECYCLE_ROUTES, ...ACCESS_ROUTES, ...PARITY_ROUTES];
