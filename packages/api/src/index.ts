export { appRouter, createCaller, type AppRouter, type RouterInputs, type RouterOutputs } from "./root.ts";
export {
  createContextInner,
  type Context,
  type ContextOptions,
  type Logger,
  type LifecycleEvent,
  type LifecycleEvents,
} from "./context.ts";
export { authenticate, type Caller } from "./auth.ts";
export {
  DomainError,
  errorBody,
  invalid,
  unauthenticated,
  unavailable,
  wireError,
  type DomainErrorKind,
  type ErrorDetails,
  type FieldIssue,
  type WireError,
} from "./errors.ts";
export { IDEMPOTENCY_HEADER, IDEMPOTENCY_TTL_SECONDS } from "./idempotency.ts";
export { bootstrapAdmin } from "./bootstrap.ts";
export { TOKEN_PREFIX, AGENT_KEY_PREFIX } from "./crypto.ts";
export { MAX_PAGE_SIZE } from "./schemas/agent.ts";
export { protoKeyPath } from "./proto-keys.ts";
export { decideForward, type ForwardDecision, type ForwardRequest } from "./lifecycle/forward.ts";
export { FeedHub, FEED_CHANNEL, HEARTBEAT, type FeedOptions } from "./feed.ts";
export { openWatch } from "./lifecycle/events.ts";
export { HealthChecker, probe, probeUrl, type HealthCheckerOptions } from "./health-checker.ts";
export {
  ChangeEvent,
  EVENT_TYPES,
  WatchInput,
  changeEventJsonSchema,
  type EventType,
} from "./schemas/event.ts";
export { AuthCache, AUTH_CHANNEL, type AuthCacheOptions, type AuthInvalidation } from "./auth-cache.ts";
