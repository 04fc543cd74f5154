/** Sending a bad-input case as written, and what its refusal may not say. */
import { request as httpRequest } from "node:http";
import { readAll } from "@agentex/testing";
import { SQL_FRAGMENTS, type Case } from "./case.ts";

export interface RawReply {
  status: number;
  text: string;
  headers: { get(name: string): string | null };
}

/**
 * One HTTP request with the path sent exactly as written: fetch would resolve
 * `%2e%2e` and friends before they reach the server.
 */
export function rawRequest(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: string | Buffer | undefined,
  signal: AbortSignal,
): Promise<RawReply> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path, headers, signal }, (res) => {
      const get = (name: string) => (res.headers[name.toLowerCase()] as string | undefined) ?? null;
      readAll(res).then((reply) => resolve({ ...reply, headers: { get } }), reject);
    });
    req.on("error", reject);
    req.end(body === undefined ? undefined : typeof body === "string" ? Buffer.from(body, "utf8") : body);
  });
}

/** Things no error text may carry. */
export const INTERNALS: Array<[string, RegExp]> = [
  ["stack frame", /\bat (async )?[\w$.<>[\] ]+ \(|^\s+at /m],
  ["file path", /(\/[\w.@-]+){2,}\.(ts|js|mjs|cjs)\b|node_modules|file:\/\//],
  ["SQL", /\bselect\b.*\bfrom\b|\binsert into\b|\bupdate \w+ set\b|\bwhere\b.*=\s*\$\d|\$\d+::/i],
  ["database names", /postgres|pglite|kysely|pg_|relation "|violates|syntax error at/i],
  [
    "JS exception",
    /TypeError|ReferenceError|RangeError|SyntaxError|ZodError|Cannot read prop|undefined is not|Maximum call stack/,
  ],
  ["stack key", /"stack"/],
];

/** The error text without the request's own input, which may legitimately be echoed (e.g. "Agent '…' not found"). */
export function scrub(text: string, c: Case): string {
  let out = text;
  for (const frag of SQL_FRAGMENTS) {
    out = out
      .split(frag)
      .join("")
      .split(JSON.stringify(frag).slice(1, -1))
      .join("")
      .split(encodeURIComponent(frag))
      .join("");
  }
  out = out.split(c.path.split("?")[0]!).join("");
  return out;
}
