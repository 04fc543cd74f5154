export { appRouter, createCaller, type AppRouter, type RouterInputs, type RouterOutputs } from "./root.ts";
export { createContextInner, type Context, type ContextOptions } from "./context.ts";
export { errorBody, toTRPCError, wireError, type WireError } from "./errors.ts";
export type { FieldIssue } from "@agentex/core";
