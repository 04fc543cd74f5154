// The README's typed-client example: build-time registration, sharing, a
// deployment, its registration, promotion. Run it against a server with
//   AGENTEX_URL=http://127.0.0.1:8000 AGENTEX_TOKEN=... npx tsx --tsconfig examples/typed-client/tsconfig.json examples/typed-client/index.ts
import { AgentexError, createClient, type Agent, type Deployment } from "@agentex/client";

const client = createClient({
  url: process.env.AGENTEX_URL ?? "http://127.0.0.1:8000",
  token: process.env.AGENTEX_TOKEN,
  retries: 3, // queries only, on 503 and network errors
  timeoutMs: 10_000,
});

export async function main(): Promise<{ agent: Agent; production: Deployment }> {
  // 1. Build time: a stable id before anything runs.
  const built = await client.agents.registerBuild.mutate({
    name: `example-agent-${Date.now().toString(36)}`,
    description: "answers questions",
  });
  console.log(`registered ${built.name} (${built.id}): ${built.status}`); // BuildOnly

  // 2. Deploy: a Pending deployment, then the running pod registers its URL.
  const deployment = await client.deployments.create.mutate({
    agent_id: built.id,
    docker_image: "example/agent:1.0.0",
  });
  const registered = await client.agents.register.mutate({
    name: built.name,
    description: built.description,
    acp_url: "http://example-agent.internal:8000",
    acp_type: "async",
    agent_id: built.id,
    registration_metadata: { deployment_id: deployment.id },
  });
  console.log(`agent API key ${registered.agent_api_key.slice(0, 12)}…`);

  // 3. Cut over: promote the Ready deployment.
  const production = await client.deployments.promote.mutate({
    agent_id: built.id,
    deployment_id: deployment.id,
  });
  const agent = await client.agents.get.query({ agent_id: built.id });
  console.log(
    `${agent.name} is ${agent.status} at ${agent.acp_url} (production ${agent.production_deployment_id})`,
  );

  // Errors are typed: status_code, code, field issues, request id.
  try {
    await client.agents.getByName.query({ agent_name: "no-such-agent" });
  } catch (err) {
    if (err instanceof AgentexError && err.code === "NOT_FOUND")
      console.log(`as expected: ${err.status_code} ${err.message}`);
    else throw err;
  }
  return { agent, production };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    console.error(err instanceof AgentexError ? `${err.code} (${err.status_code}): ${err.message}` : err);
    process.exit(1);
  });
}
