// Compile-time checks that the client's types follow the router. Type-checked
// (never run) by packages/client/test/typed-client.test.ts: each
// `@ts-expect-error` must still be an error, and each assertion must hold,
// or `tsc` fails.
import {
  createClient,
  type Agent,
  type AgentexError,
  type AgentRole,
  type AgentStatus,
  type AgentApiKeyType,
  type Deployment,
  type Promotion,
  type DeploymentHistory,
  type RegisteredAgent,
  type RouterInputs,
  type RouterOutputs,
} from "@agentex/client";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(): T | void {}

const client = createClient({ url: "http://127.0.0.1:8000", token: "agx_pat_example" });

export async function checks(agentId: string, deploymentId: string): Promise<void> {
  const agent = await client.agents.get.query({ agent_id: agentId });

  // Outputs: the wire fields, with their exact types.
  assertType<Equal<typeof agent, Agent>>();
  assertType<
    Equal<Agent["status"], "Ready" | "Failed" | "Unknown" | "Deleted" | "Unhealthy" | "BuildOnly">
  >();
  assertType<Equal<AgentStatus, Agent["status"]>>();
  assertType<Equal<Agent["acp_url"], string | null>>();
  assertType<Equal<Agent["acp_type"], "sync" | "async" | "agentic">>();
  assertType<Equal<Agent["production_deployment_id"], string | null>>();
  assertType<Equal<Agent["created_at"], string>>(); // ISO string, no transformer
  assertType<Equal<Deployment["status"], "Pending" | "Ready" | "Failed">>();
  assertType<Equal<Deployment["is_production"], boolean>>();
  assertType<Equal<Deployment["docker_image"], string>>(); // never null (Agentex's strict clients)
  assertType<Equal<DeploymentHistory["commit_hash"], string>>();
  assertType<Equal<AgentApiKeyType, "internal" | "external" | "github" | "slack">>();
  assertType<Equal<RouterOutputs["agentApiKeys"]["revoke"], string>>();
  assertType<Equal<RegisteredAgent["agent_api_key"], string>>();
  assertType<Equal<AgentRole, "viewer" | "deployer" | "owner">>();
  assertType<Equal<RouterOutputs["agents"]["list"], Agent[]>>();
  type PromoteFields = Pick<
    RouterInputs["deployments"]["promote"],
    keyof RouterInputs["deployments"]["promote"]
  >;
  assertType<
    Equal<
      PromoteFields,
      {
        agent_id: string;
        deployment_id: string;
        reason?: string | null | undefined;
        expected_current_deployment_id?: string | null | undefined;
        idempotency_key?: string | undefined;
      }
    >
  >();
  assertType<Equal<Promotion["kind"], "promote" | "rollback" | "cleared">>();
  assertType<Equal<AgentexError["current_deployment_id"], string | null | undefined>>();
  assertType<Equal<AgentexError["status_code"], number | null>>();

  // @ts-expect-error: the wire format is snake_case; there is no camelCase field
  void agent.acpUrl;
  // @ts-expect-error: an agent has no `agent_name` field (it is `name`)
  void agent.agent_name;
  // @ts-expect-error: status is a closed enum
  const bad: Agent["status"] = "Running";
  void bad;

  // @ts-expect-error: agents.get takes `agent_id`, not `id`
  await client.agents.get.query({ id: agentId });
  // @ts-expect-error: `agent_id` is a string
  await client.agents.get.query({ agent_id: 42 });
  // @ts-expect-error: acp_type must be sync | async | agentic
  await client.agents.register.mutate({ name: "a", description: "", acp_url: "http://x", acp_type: "grpc" });
  // @ts-expect-error: register needs acp_url
  await client.agents.register.mutate({ name: "a", description: "", acp_type: "sync" });
  // @ts-expect-error: roles are viewer | deployer | owner
  await client.grants.set.mutate({ agent_id: agentId, principal_id: agentId, role: "admin" });
  /* eslint-disable @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access -- these calls must not type-check, so they have no type to be safe with */
  // @ts-expect-error: promote is a mutation, not a query
  await client.deployments.promote.query({ agent_id: agentId, deployment_id: deploymentId });
  // @ts-expect-error: there is no such procedure
  await client.agents.promote.mutate({ agent_id: agentId });
  /* eslint-enable @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access */
  // @ts-expect-error: order_by is limited to created_at | updated_at | name | registered_at
  await client.agents.list.query({ order_by: "status" });

  const _page = await client.agents.listPage.query({ limit: 10 });
  assertType<Equal<typeof _page.next_cursor, string | null>>();
  const deployments = await client.deployments.list.query({ agent_id: agentId });
  // @ts-expect-error: deployments.list returns a bare array, not a page
  void deployments.items;
}
