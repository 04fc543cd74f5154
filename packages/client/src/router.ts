/**
 * The one place the client takes the server's types from. In the repository it
 * re-exports them from the router's source; `pnpm build` replaces this module's
 * declaration (dist/router.d.ts) with a self-contained one generated from the
 * router (scripts/build-client-types.mjs), so the published package needs
 * nothing from @agentex/* (nor kysely, zod or trpc-to-openapi): @agentex/api is
 * a devDependency, which the packed manifest leaves out (.pnpmfile.cjs).
 */
export type { AppRouter, RouterInputs, RouterOutputs, FieldIssue } from "@agentex/api";
