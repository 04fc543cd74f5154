/** SQL fragments in every constrained string: body fields, query parameters and path parameters, each refused as a 422 naming it. */
import {
  SQL_FRAGMENTS,
  collect,
  enc,
  fixtureRegister,
  validRegister,
  validRegisterBuild,
  type Case,
  type Fixture,
} from "./case.ts";

export function sqlCases(fx: Fixture): Case[] {
  return collect((add) => {
    // --- SQL fragments in every constrained string parameter -----------------
    for (const frag of SQL_FRAGMENTS) {
      const f = JSON.stringify(frag);
      add({
        name: `SQL ${f} in name → register-build`,
        method: "POST",
        path: "/api/agents/register-build",
        body: { name: frag, description: "x" },
        status: 422,
        fields: ["name"],
      });
      add({
        name: `SQL ${f} in name → register`,
        method: "POST",
        path: "/api/agents/register",
        body: { ...validRegister(), name: frag },
        status: 422,
        fields: ["name"],
      });
      add({
        name: `SQL ${f} in acp_url`,
        method: "POST",
        path: "/api/agents/register",
        body: { ...validRegister(), acp_url: frag },
        status: 422,
        fields: ["acp_url"],
      });
      add({
        name: `SQL ${f} in acp_type`,
        method: "POST",
        path: "/api/agents/register",
        body: { ...validRegister(), acp_type: frag },
        status: 422,
        fields: ["acp_type"],
      });
      add({
        name: `SQL ${f} in agent_id (body)`,
        method: "POST",
        path: "/api/agents/register",
        body: { ...validRegister(), agent_id: frag },
        status: 422,
        fields: ["agent_id"],
      });
      add({
        name: `SQL ${f} in agent_input_type`,
        method: "POST",
        path: "/api/agents/register-build",
        body: { ...validRegisterBuild(), agent_input_type: frag },
        status: 422,
        fields: ["agent_input_type"],
      });
      add({
        name: `SQL ${f} in registration_metadata.deployment_id`,
        method: "POST",
        path: "/api/agents/register",
        body: fixtureRegister(fx, { registration_metadata: { deployment_id: frag } }),
        status: 422,
        fields: ["registration_metadata.deployment_id"],
      });
      add({
        name: `SQL ${f} in role`,
        method: "PUT",
        path: `/api/agents/${fx.agentId}/grants/${fx.principalId}`,
        body: { role: frag },
        status: 422,
        fields: ["role"],
      });
      add({
        name: `SQL ${f} in kind`,
        method: "POST",
        path: "/api/principals",
        body: { name: "p-sql", kind: frag },
        status: 422,
        fields: ["kind"],
      });
      add({
        name: `SQL ${f} in agent_name (api key)`,
        method: "POST",
        path: "/api/agent_api_keys",
        body: { agent_name: frag, name: "k" },
        status: 422,
        fields: ["agent_name"],
      });
      add({
        name: `SQL ${f} in api_key_type`,
        method: "POST",
        path: "/api/agent_api_keys",
        body: { agent_id: fx.agentId, name: "k", api_key_type: frag },
        status: 422,
        fields: ["api_key_type"],
      });
      // query parameters
      for (const q of ["limit", "page_number", "order_by", "order_direction", "status"]) {
        add({
          name: `SQL ${f} in ?${q}`,
          method: "GET",
          path: `/api/agents?${q}=${enc(frag)}`,
          status: 422,
          fields: [q],
        });
      }
      add({
        name: `SQL ${f} in deployments ?limit`,
        method: "GET",
        path: `/api/agents/${fx.agentId}/deployments?limit=${enc(frag)}`,
        status: 422,
        fields: ["limit"],
      });
      add({
        name: `SQL ${f} in ?agent_id (api keys)`,
        method: "GET",
        path: `/api/agent_api_keys?agent_id=${enc(frag)}`,
        status: 422,
        fields: ["agent_id"],
      });
      // path parameters
      const e = enc(frag);
      const pathCases: Array<[string, string, string]> = [
        ["GET", `/api/agents/${e}`, "agent_id"],
        ["DELETE", `/api/agents/${e}`, "agent_id"],
        ["GET", `/api/agents/name/${e}`, "agent_name"],
        ["DELETE", `/api/agents/name/${e}`, "agent_name"],
        ["POST", `/api/agents/${e}/deployments`, "agent_id"],
        ["GET", `/api/agents/${e}/deployments`, "agent_id"],
        ["GET", `/api/agents/${fx.agentId}/deployments/${e}`, "deployment_id"],
        ["POST", `/api/agents/${fx.agentId}/deployments/${e}/promote`, "deployment_id"],
        ["DELETE", `/api/agents/${fx.agentId}/deployments/${e}`, "deployment_id"],
        ["POST", `/api/agents/${e}/deployments/${fx.deploymentId}/promote`, "agent_id"],
        ["GET", `/api/agents/${e}/grants`, "agent_id"],
        ["PUT", `/api/agents/${fx.agentId}/grants/${e}`, "principal_id"],
        ["DELETE", `/api/agents/${fx.agentId}/grants/${e}`, "principal_id"],
        ["POST", `/api/principals/${e}/tokens`, "principal_id"],
        ["DELETE", `/api/tokens/${e}`, "token_id"],
        ["DELETE", `/api/agent_api_keys/${e}`, "id"],
      ];
      for (const [method, path, field] of pathCases) {
        add({
          name: `SQL ${f} in path {${field}} → ${method} ${path.replace(e, "…")}`,
          method,
          path,
          ...(method === "POST" || method === "PUT"
            ? { body: method === "PUT" ? { role: "viewer" } : {} }
            : {}),
          status: 422,
          fields: [field],
        });
      }
    }
  });
}
