/**
 * Sending an IDOR case: over the REST bridge (/api, where the procedure has a
 * route) or over /trpc (GET for queries, POST for mutations, SSE for
 * subscriptions), as one of the callers.
 */
import { appRouter } from "@agentex/api";
import { restRoutes } from "../../src/rest-bridge.ts";
import { routerInternals } from "../../src/trpc-fast.ts";
import type { TestServer } from "../helpers.ts";
import type { Attacker, Data } from "./case.ts";
import { credentialOf, type IdorFixture } from "./fixture.ts";

export interface Reply {
  status: number;
  code: string | undefined;
  message: string | undefined;
  data: Data;
  text: string;
}

export type Send = (
  proc: string,
  input: Record<string, unknown> | undefined,
  who: Attacker,
) => Promise<Reply>;

/** The router's REST routes by procedure name (as the bridge serves them). */
export const REST = new Map(restRoutes(appRouter).map((route) => [route.name, route]));
/** Every procedure of the router by dotted name, with its type (the fast path's pinned read of the router). */
export const TYPES = routerInternals(appRouter).types;

export function transports(s: TestServer, fx: IdorFixture): { rest: Send; trpc: Send } {
  async function viaRest(
    proc: string,
    input: Record<string, unknown> | undefined,
    who: Attacker,
  ): Promise<Reply> {
    const meta = REST.get(proc)!;
    const rest: Record<string, unknown> = { ...input };
    const path = meta.path.replace(/\{(\w+)\}/g, (_m, key: string) => {
      const value = rest[key];
      delete rest[key];
      return encodeURIComponent(String(value));
    });
    let url = `/api${path}`;
    let body: unknown;
    if (meta.method === "GET" || meta.method === "DELETE") {
      const qs = new URLSearchParams(Object.entries(rest).map(([k, v]) => [k, String(v)])).toString();
      if (qs) url += `?${qs}`;
    } else {
      body = rest;
    }
    const res = await s.api(meta.method, url, {
      ...credentialOf(fx, who),
      ...(body !== undefined ? { body } : {}),
    });
    const ok = res.status === 200;
    return {
      status: res.status,
      code: ok ? undefined : res.body?.code,
      message: ok ? undefined : res.body?.message,
      data: ok ? res.body : undefined,
      text: typeof res.body === "string" ? res.body : JSON.stringify(res.body),
    };
  }

  /** A subscription over SSE: its first event decides (an error event, or an open stream that says nothing = 200). */
  async function viaSubscription(
    proc: string,
    input: Record<string, unknown> | undefined,
    who: Attacker,
  ): Promise<Reply> {
    const abort = new AbortController();
    const cred = credentialOf(fx, who);
    const headers: Record<string, string> = { accept: "text/event-stream", ...cred.headers };
    if (cred.token) headers.authorization = `Bearer ${cred.token}`;
    const res = await fetch(
      `${s.url}/trpc/${proc}?input=${encodeURIComponent(JSON.stringify(input ?? {}))}`,
      { headers, signal: abort.signal },
    );
    if (!(res.headers.get("content-type") ?? "").startsWith("text/event-stream")) {
      const body = await res.json();
      return {
        status: res.status,
        code: body?.error?.data?.code,
        message: body?.error?.message,
        data: undefined,
        text: JSON.stringify(body),
      };
    }
    const decoder = new TextDecoder();
    let text = "";
    const reader = res.body!.getReader();
    const timer = setTimeout(() => abort.abort(), 1_500);
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
        const error = /event: serialized-error\ndata: (.*)\n/.exec(text);
        if (error) {
          const body = JSON.parse(error[1]!);
          return {
            status: body.data.httpStatus,
            code: body.data.code,
            message: body.message,
            data: undefined,
            text,
          };
        }
      }
    } catch {
      // aborted: the stream stayed open without an error
    } finally {
      clearTimeout(timer);
      abort.abort();
    }
    return { status: 200, code: undefined, message: undefined, data: undefined, text };
  }

  async function viaTrpc(
    proc: string,
    input: Record<string, unknown> | undefined,
    who: Attacker,
  ): Promise<Reply> {
    const type = TYPES.get(proc);
    if (type === "subscription") return viaSubscription(proc, input, who);
    const res =
      type === "query"
        ? await s.api(
            "GET",
            `/trpc/${proc}${input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(input))}`}`,
            credentialOf(fx, who),
          )
        : await s.api("POST", `/trpc/${proc}`, { ...credentialOf(fx, who), body: input ?? {} });
    return {
      status: res.status,
      code: res.body?.error?.data?.code,
      message: res.body?.error?.message,
      data: res.body?.result?.data,
      text: typeof res.body === "string" ? res.body : JSON.stringify(res.body),
    };
  }
  return { rest: viaRest, trpc: viaTrpc };
}
