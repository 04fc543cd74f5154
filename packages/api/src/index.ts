export { appRouter, createCaller, type AppRouter, type RouterInputs, type RouterOutputs } from './root.ts';
export { createContextInner, type Context, type ContextOptions, type Logger, type LifecycleEvent, type LifecycleEvents } from './context.ts';
export { authenticate, type Principal } from './auth.ts';
export { DomainError, type DomainErrorKind, type FieldIssue } from './errors.ts';
export { bootstrapAdmin } from './bootstrap.ts';
export { TOKEN_PREFIX, AGENT_KEY_PREFIX } from './crypto.ts';
export { MAX_PAGE_SIZE } from './schemas/agent.ts';
export { AuthCache, AUTH_CHANNEL, type AuthCacheOptions, type AuthInvalidation } from './auth-cache.ts';
