/** IDOR cases about an agent and what hangs off it: registration, reads, deletes, deployments, promotions, events. */
import { randomBytes } from "node:crypto";
import { expect } from "vitest";
import type { Case, Data } from "./case.ts";
import type { IdorFixture } from "./fixture.ts";

export function agentCases({ agent, dep, B }: IdorFixture): Case[] {
  const readsAgent = (expected: boolean) => (data: Data) => {
    const list: unknown = Array.isArray(data) ? data : data.items;
    expect(Array.isArray(list)).toBe(true);
    expect((list as Array<{ id: string }>).some((x) => x.id === agent.id)).toBe(expected);
  };
  return [
    {
      name: "registerBuild of A's name",
      proc: "agents.registerBuild",
      input: () => ({ name: agent.name, description: "squatter" }),
      B: 409,
      // An agent key cannot create agents: the same 403 a free name gets (no oracle).
      key: 403,
      viewer: {
        status: 200,
        check: (d) =>
          expect(d).toMatchObject({
            id: agent.id,
            description: agent.description,
            acp_url: agent.acpUrl,
            status: "Ready",
          }),
      },
    },
    {
      name: "register (legacy) by A's name",
      proc: "agents.register",
      input: () => ({
        name: agent.name,
        description: "hijack",
        acp_url: "http://evil.example:1",
        acp_type: "async",
      }),
      B: 409,
      // Agent keys never register (issue 9): refused before any lookup.
      key: 403,
      viewer: 403,
    },
    {
      name: "register by A's agent_id",
      proc: "agents.register",
      input: () => ({
        agent_id: agent.id,
        name: `hijack-${randomBytes(3).toString("hex")}`,
        description: "x",
        acp_url: "http://evil.example:1",
        acp_type: "async",
      }),
      B: 404,
      key: 403,
      viewer: 403,
    },
    {
      name: "register of A's pending deployment",
      proc: "agents.register",
      input: () => ({
        agent_id: agent.id,
        name: agent.name,
        description: agent.description,
        acp_url: "http://evil.example:1",
        acp_type: "async",
        registration_metadata: { deployment_id: dep.pending },
      }),
      B: 404,
      key: 403,
      viewer: 403,
    },
    {
      name: "get agent",
      proc: "agents.get",
      input: () => ({ agent_id: agent.id }),
      B: 404,
      key: 404,
      viewer: { status: 200, check: (d) => expect(d.id).toBe(agent.id) },
    },
    {
      name: "get agent by name",
      proc: "agents.getByName",
      input: () => ({ agent_name: agent.name }),
      B: 404,
      key: 404,
      viewer: { status: 200, check: (d) => expect(d.id).toBe(agent.id) },
    },
    {
      name: "list agents",
      proc: "agents.list",
      input: () => ({ limit: 1000 }),
      B: { status: 200, check: readsAgent(false) },
      key: { status: 200, check: (d) => expect(d.map((x: { id: string }) => x.id)).toEqual([B.agentId]) },
      viewer: { status: 200, check: readsAgent(true) },
    },
    {
      name: "list agents by cursor",
      proc: "agents.listPage",
      input: () => ({ limit: 1000 }),
      B: { status: 200, check: readsAgent(false) },
      key: {
        status: 200,
        check: (d) => expect(d.items.map((x: { id: string }) => x.id)).toEqual([B.agentId]),
      },
      viewer: { status: 200, check: readsAgent(true) },
    },
    {
      name: "count agents by status",
      proc: "agents.counts",
      input: () => undefined,
      // Each caller counts only what it may read: its own agent (B, B's key) or the one shared with it (viewer).
      B: { status: 200, check: (d) => expect(d.total).toBe(1) },
      key: { status: 200, check: (d) => expect(d.total).toBe(1) },
      viewer: { status: 200, check: (d) => expect(d.total).toBe(1) },
    },
    {
      name: "what the caller may do on A's agent",
      proc: "agents.permissions",
      input: () => ({ agent_id: agent.id }),
      B: 404,
      key: 404,
      viewer: {
        status: 200,
        check: (d) => expect(d).toMatchObject({ agent_id: agent.id, role: "viewer", actions: ["read"] }),
      },
    },
    {
      name: "delete agent",
      proc: "agents.delete",
      input: () => ({ agent_id: agent.id }),
      B: 404,
      key: 404,
      viewer: 403,
    },
    {
      name: "delete agent by name",
      proc: "agents.deleteByName",
      input: () => ({ agent_name: agent.name }),
      B: 404,
      key: 404,
      viewer: 403,
    },
    {
      name: "create deployment",
      proc: "deployments.create",
      input: () => ({ agent_id: agent.id, docker_image: "evil:1" }),
      B: 404,
      key: 404,
      viewer: 403,
    },
    {
      name: "list deployments",
      proc: "deployments.list",
      input: () => ({ agent_id: agent.id }),
      B: 404,
      key: 404,
      viewer: {
        status: 200,
        check: (d) =>
          expect(d.map((x: { id: string }) => x.id).sort()).toEqual(
            [dep.prod, dep.ready, dep.pending].sort(),
          ),
      },
    },
    {
      name: "list deployments by cursor",
      proc: "deployments.listPage",
      input: () => ({ agent_id: agent.id }),
      B: 404,
      key: 404,
      viewer: { status: 200, check: (d) => expect(d.items).toHaveLength(3) },
    },
    {
      name: "get deployment",
      proc: "deployments.get",
      input: () => ({ agent_id: agent.id, deployment_id: dep.prod }),
      B: 404,
      key: 404,
      viewer: { status: 200, check: (d) => expect(d).toMatchObject({ id: dep.prod, is_production: true }) },
    },
    {
      name: "promote deployment",
      proc: "deployments.promote",
      input: () => ({ agent_id: agent.id, deployment_id: dep.ready }),
      B: 404,
      key: 404,
      viewer: 403,
    },
    {
      name: "delete deployment",
      proc: "deployments.delete",
      input: () => ({ agent_id: agent.id, deployment_id: dep.pending }),
      B: 404,
      key: 404,
      viewer: 403,
    },
    {
      name: "read the promotion ledger",
      proc: "promotions.list",
      input: () => ({ agent_id: agent.id }),
      B: 404,
      key: 404,
      viewer: {
        status: 200,
        check: (d) =>
          expect(d.items.map((x: { to_deployment_id: string }) => x.to_deployment_id)).toEqual([dep.prod]),
      },
    },
    {
      name: "production at a time",
      proc: "promotions.productionAt",
      input: () => ({ agent_id: agent.id }),
      B: 404,
      key: 404,
      viewer: { status: 200, check: (d) => expect(d.deployment_id).toBe(dep.prod) },
    },
    {
      name: "roll back",
      proc: "promotions.rollback",
      input: () => ({ agent_id: agent.id }),
      B: 404,
      key: 404,
      viewer: 403,
    },
    {
      name: "roll B's agent back to A's deployment",
      proc: "promotions.rollback",
      input: () => ({ agent_id: B.agentId, to_deployment_id: dep.ready }),
      B: 412,
      key: 403,
      viewer: 404,
    },
    {
      name: "watch A's events",
      proc: "events.watch",
      input: () => ({ agent_id: agent.id }),
      B: 404,
      key: 404,
      // The stream opens (and stays open: nothing happens to A's agent meanwhile).
      viewer: { status: 200, check: (d) => expect(d).toBeUndefined() },
    },
    // Cross-agent references: the caller's own agent (B's) with A's deployment ids.
    {
      name: "get A's deployment through B's agent",
      proc: "deployments.get",
      input: () => ({ agent_id: B.agentId, deployment_id: dep.prod }),
      B: 404,
      key: 404,
      viewer: 404,
    },
    {
      name: "reinstate A's deployment through B's agent",
      proc: "deployments.reinstate",
      input: () => ({ agent_id: B.agentId, deployment_id: dep.ready }),
      B: 404,
      key: 403,
      viewer: 404,
    },
    {
      name: "promote A's deployment through B's agent",
      proc: "deployments.promote",
      input: () => ({ agent_id: B.agentId, deployment_id: dep.ready }),
      B: 404,
      key: 403,
      viewer: 404,
    },
    {
      name: "delete A's deployment through B's agent",
      proc: "deployments.delete",
      input: () => ({ agent_id: B.agentId, deployment_id: dep.pending }),
      B: 404,
      key: 403,
      viewer: 404,
    },
  ];
}
