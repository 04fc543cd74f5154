import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import { agentApiKeysRouter } from "./routers/api-keys.ts";
import { agentsRouter } from "./routers/agents.ts";
import { deploymentHistoryRouter } from "./routers/deployment-history.ts";
import { deploymentsRouter } from "./routers/deployments.ts";
import { eventsRouter } from "./routers/events.ts";
import { grantsRouter } from "./routers/grants.ts";
import { promotionsRouter } from "./routers/promotions.ts";
import { meRouter } from "./routers/me.ts";
import { principalsRouter } from "./routers/principals.ts";
import { tokensRouter } from "./routers/tokens.ts";
import { createCallerFactory, router } from "./trpc.ts";

// Order matters for the REST bridge, which takes the first matching path:
// `/agents/name/{agent_name}` must be tried before `/agents/{agent_id}/...`.
export const appRouter = router({
  agents: agentsRouter,
  deployments: deploymentsRouter,
  promotions: promotionsRouter,
  grants: grantsRouter,
  agentApiKeys: agentApiKeysRouter,
  deploymentHistory: deploymentHistoryRouter,
  me: meRouter,
  principals: principalsRouter,
  tokens: tokensRouter,
  events: eventsRouter,
});

export type AppRouter = typeof appRouter;
export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;

export const createCaller = createCallerFactory(appRouter);
