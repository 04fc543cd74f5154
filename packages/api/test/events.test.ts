import { TEST_STORE } from "@agentex/db/testing";
import { describe, expect, it } from "vitest";
import { createCaller, createContextInner } from "../src/index.ts";
import { type LifecycleEvents } from "@agentex/core";
import { SECRET, rejection, uniqueName, useFixture } from "./helpers.ts";
import { readyDeployment, registerInput } from "./lifecycle-helpers.ts";

describe(`lifecycle events (${TEST_STORE})`, () => {
  const f = useFixture();

  it("are reported once per committed change, and never for a rolled-back one", async () => {
    const { principal } = await f.principal();
    const seen: string[] = [];
    const events: LifecycleEvents = { onEvent: (e) => seen.push(e) };
    const caller = createCaller(createContextInner({ db: f.db.db, secretKey: SECRET, principal, events }));

    const agent = await caller.agents.registerBuild({ name: uniqueName(), description: "" });
    const deployment = await readyDeployment(caller, agent);
    await caller.deployments.promote({ agent_id: agent.id, deployment_id: deployment.id });
    await caller.deployments.promote({ agent_id: agent.id, deployment_id: deployment.id }); // no-op
    expect(seen).toEqual(["agent_created", "deployment_created", "registration", "promotion"]);

    // Creating an agent by name, then refusing another agent's deployment id: the
    // whole transaction rolls back, so the creation it recorded is not reported.
    seen.length = 0;
    const err = await rejection(
      caller.agents.register(
        registerInput(uniqueName(), { registration_metadata: { deployment_id: deployment.id } }),
      ),
    );
    expect(err.code).toBe("CONFLICT");
    expect(seen).toEqual([]);
  });
});
