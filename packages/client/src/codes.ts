/**
 * `@agentex/client/codes`: the error `code` the client names each HTTP status
 * by when a response carries no tRPC error body, the same table the server
 * writes its own error bodies with. It lives in @agentex/wire, which the build
 * inlines into the published SDK (scripts/build-client-inline.mjs).
 */
export { CODE_BY_STATUS, codeForStatus } from "@agentex/wire";
