/** What the access tests share: agents set up by an owner the way a deploy pipeline would. */
import { randomUUID } from "node:crypto";
import { type Caller } from "@agentex/core";
import { uniqueName, type Fixture } from "../helpers.ts";

export const url = (host: string) => `http://${host}.example:8000`;

export function accessFixtures(f: Fixture) {
  async function grantsOf(agentId: string) {
    return f.db.db
      .selectFrom("grants")
      .select(["principal_id", "role"])
      .where("agent_id", "=", agentId)
      .execute();
  }

  /** An agent owned by `owner`: a production deployment, a Ready one, a Pending one, and the internal key. */
  async function deployedAgent(owner: Caller, opts: { description?: string } = {}) {
    const api = f.as(owner);
    const name = uniqueName("acc");
    const description = opts.description ?? `desc of ${name}`;
    const built = await api.agents.registerBuild({ name, description });
    const prod = randomUUID();
    const ready = randomUUID();
    const reg = await api.agents.register({
      name,
      description,
      acp_url: url(`${name}-prod`),
      acp_type: "async",
      registration_metadata: { deployment_id: prod },
    });
    await api.agents.register({
      name,
      description,
      acp_url: url(`${name}-ready`),
      acp_type: "async",
      registration_metadata: { deployment_id: ready },
    });
    await api.deployments.promote({ agent_id: built.id, deployment_id: prod });
    const pending = await api.deployments.create({ agent_id: built.id, docker_image: "img:1" });
    const agent = await api.agents.get({ agent_id: built.id });
    return { agent, name, prod, ready, pending: pending.id, key: reg.agent_api_key };
  }
  return { grantsOf, deployedAgent };
}
