/** Query parameters and enum fields out of range: limits, page numbers, orderings, statuses, roles, kinds, boolean flags. */
import { collect, enc, validRegister, validRegisterBuild, type Case, type Fixture } from "./case.ts";

export function paramCases(fx: Fixture): Case[] {
  return collect((add) => {
    // --- numbers out of range -----------------------------------------------
    const badNumbers = [
      "1e309",
      "-1e309",
      "-1",
      "0",
      "1001",
      "99999999999999999999",
      "NaN",
      "Infinity",
      "1.5",
      "abc",
      "1e3x",
      " ",
      "--1",
      "1_000",
      "0x7fffffff",
    ];
    for (const v of badNumbers) {
      add({
        name: `GET /agents limit=${JSON.stringify(v)}`,
        method: "GET",
        path: `/api/agents?limit=${enc(v)}`,
        status: 422,
        fields: ["limit"],
      });
      add({
        name: `GET deployments limit=${JSON.stringify(v)}`,
        method: "GET",
        path: `/api/agents/${fx.agentId}/deployments?limit=${enc(v)}`,
        status: 422,
        fields: ["limit"],
      });
    }
    for (const v of ["0", "-1", "1e309", "99999999999999999999", "1000001", "NaN", "2.5", "abc"]) {
      add({
        name: `GET /agents page_number=${JSON.stringify(v)}`,
        method: "GET",
        path: `/api/agents?page_number=${enc(v)}`,
        status: 422,
        fields: ["page_number"],
      });
    }
    add({
      name: "limit as a JSON number in a tRPC query: 1e309 → Infinity",
      method: "GET",
      path: `/trpc/agents.list?input=${enc('{"limit":1e309}')}`,
      status: [400, 422],
      trpc: true,
    });
    add({
      name: "limit as a huge number over tRPC",
      method: "GET",
      path: `/trpc/agents.list?input=${enc('{"limit":99999999999999999999}')}`,
      status: 422,
      trpc: true,
    });
    add({
      name: "page_number huge over tRPC",
      method: "GET",
      path: `/trpc/agents.list?input=${enc('{"page_number":9007199254740993}')}`,
      status: 422,
      trpc: true,
    });

    // --- enums out of range --------------------------------------------------
    for (const v of [
      "id",
      "description",
      "NAME",
      "name;drop table agents",
      "created_at desc",
      "1",
      " ",
      "created_at,name",
    ]) {
      add({
        name: `order_by=${JSON.stringify(v)}`,
        method: "GET",
        path: `/api/agents?order_by=${enc(v)}`,
        status: 422,
        fields: ["order_by"],
      });
    }
    for (const v of ["ASC", "up", "descending", " ", "1", "asc;"]) {
      add({
        name: `order_direction=${JSON.stringify(v)}`,
        method: "GET",
        path: `/api/agents?order_direction=${enc(v)}`,
        status: 422,
        fields: ["order_direction"],
      });
    }
    for (const v of ["ready", "READY", "Running", " ", "Ready,Failed", "*"]) {
      add({
        name: `status=${JSON.stringify(v)}`,
        method: "GET",
        path: `/api/agents?status=${enc(v)}`,
        status: 422,
        fields: ["status"],
      });
    }
    add({
      name: "acp_type outside enum",
      method: "POST",
      path: "/api/agents/register",
      body: { ...validRegister(), acp_type: "streaming" },
      status: 422,
      fields: ["acp_type"],
    });
    add({
      name: "agent_input_type outside enum",
      method: "POST",
      path: "/api/agents/register-build",
      body: { ...validRegisterBuild(), agent_input_type: "xml" },
      status: 422,
      fields: ["agent_input_type"],
    });
    add({
      name: "principal kind agent (not creatable)",
      method: "POST",
      path: "/api/principals",
      body: { name: "p-agent", kind: "agent" },
      status: 422,
      fields: ["kind"],
    });
    add({
      name: "grant role admin",
      method: "PUT",
      path: `/api/agents/${fx.agentId}/grants/${fx.principalId}`,
      body: { role: "admin" },
      status: 422,
      fields: ["role"],
    });
    add({
      name: "api_key_type internal (not mintable by hand)",
      method: "POST",
      path: "/api/agent_api_keys",
      body: { agent_id: fx.agentId, name: "k-int", api_key_type: "internal" },
      status: 422,
      fields: ["api_key_type"],
    });
    // The bridge coerces plain z.boolean() inputs with Boolean(): "false" would be true.
    for (const flag of ["admin", "can_create_agents"]) {
      for (const v of ["false", "true", "", 0, 1, "yes", null, [], {}]) {
        add({
          name: `${flag} ${JSON.stringify(v)} (not a JSON boolean)`,
          method: "POST",
          path: "/api/principals",
          body: { name: `p-flag-${flag}`, kind: "user", [flag]: v },
          status: 422,
          fields: [flag],
        });
      }
    }
  });
}
