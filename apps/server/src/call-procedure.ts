import type { AnyRouter } from "@trpc/server";

/**
 * What a dotted procedure name (`agents.get`) names on a built router (which
 * carries its procedures as properties) or on one of its callers (a proxy,
 * where every name is a function).
 */
export function procedureAt(from: unknown, name: string): unknown {
  let at = from;
  for (const segment of name.split(".")) at = (at as Record<string, unknown> | undefined)?.[segment];
  return at;
}

/**
 * Calls a procedure of `router` by name through its public `createCaller`, as
 * the REST bridge and the /trpc fast path serve calls. Resolves to its output;
 * rejects with what it threw (a TRPCError once the router's mapErrors has seen it).
 */
export function callProcedure(
  router: AnyRouter,
  ctx: unknown,
  name: string,
  input: unknown,
): Promise<unknown> {
  const call = procedureAt(router.createCaller(ctx), name) as (input: unknown) => Promise<unknown>;
  return call(input);
}
