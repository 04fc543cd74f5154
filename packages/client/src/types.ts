import type { AppRouter, RouterInputs, RouterOutputs } from "./router.ts";

export type { AppRouter, RouterInputs, RouterOutputs };

// Outputs (wire shapes, snake_case, timestamps as ISO strings).
export type Agent = RouterOutputs["agents"]["get"];
export type RegisteredAgent = RouterOutputs["agents"]["register"];
export type AgentPage = RouterOutputs["agents"]["listPage"];
export type AgentStatus = Agent["status"];
export type Deployment = RouterOutputs["deployments"]["get"];
export type DeploymentPage = RouterOutputs["deployments"]["listPage"];
export type DeploymentStatus = Deployment["status"];
export type Grant = RouterOutputs["grants"]["set"];
export type AgentRole = Grant["role"];
export type DeletedResponse = RouterOutputs["agents"]["delete"];
export type AgentApiKey = RouterOutputs["agentApiKeys"]["list"][number];
export type CreatedAgentApiKey = RouterOutputs["agentApiKeys"]["create"];
export type AgentApiKeyType = AgentApiKey["api_key_type"];
export type WebhookTrigger = RouterOutputs["agentApiKeys"]["webhookTrigger"];
export type DeploymentHistory = RouterOutputs["deploymentHistory"]["get"];
export type Me = RouterOutputs["me"]["get"];
export type Principal = RouterOutputs["principals"]["list"][number];
export type CreatedPrincipal = RouterOutputs["principals"]["create"];
export type Token = RouterOutputs["tokens"]["list"][number];
export type IssuedToken = RouterOutputs["tokens"]["create"];
/** One row of the promotion ledger. */
export type Promotion = RouterOutputs["promotions"]["list"]["items"][number];
export type PromotionKind = Promotion["kind"];
export type PromotionPage = RouterOutputs["promotions"]["list"];
export type RollbackResult = RouterOutputs["promotions"]["rollback"];
export type ProductionAt = RouterOutputs["promotions"]["productionAt"];

// Inputs.
export type RegisterBuildInput = RouterInputs["agents"]["registerBuild"];
export type RegisterInput = RouterInputs["agents"]["register"];
export type ListAgentsInput = RouterInputs["agents"]["list"];
export type CreateDeploymentInput = RouterInputs["deployments"]["create"];
export type ListDeploymentsInput = RouterInputs["deployments"]["list"];
export type SetGrantInput = RouterInputs["grants"]["set"];
export type PromoteInput = RouterInputs["deployments"]["promote"];
export type RollbackInput = RouterInputs["promotions"]["rollback"];
export type ListPromotionsInput = RouterInputs["promotions"]["list"];
export type CreateAgentApiKeyInput = RouterInputs["agentApiKeys"]["create"];
export type ListAgentApiKeysInput = RouterInputs["agentApiKeys"]["list"];
export type CreateWebhookTriggerInput = RouterInputs["agentApiKeys"]["webhookTrigger"];
export type ListDeploymentHistoryInput = RouterInputs["deploymentHistory"]["list"];
