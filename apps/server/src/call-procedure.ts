import type { AnyProcedure } from "@trpc/server";

/**
 * Calls one of the router's procedures directly, as tRPC's adapters do: the
 * REST bridge and the /trpc fast path both serve calls this way, skipping the
 * adapter's fetch `Request` round trip. Resolves to its output; rejects with
 * what it threw (a TRPCError once the router's mapErrors has seen it).
 */
export function callProcedure(
  procedure: AnyProcedure,
  call: { ctx: unknown; type: "query" | "mutation"; path: string; input: unknown; batchIndex?: number },
): Promise<unknown> {
  return procedure({
    ctx: call.ctx,
    type: call.type,
    path: call.path,
    getRawInput: () => Promise.resolve(call.input),
    signal: undefined,
    batchIndex: call.batchIndex ?? 0,
  }) as Promise<unknown>;
}
