/**
 * Load from `wrk` (a C load generator): on a shared two-core machine a Node
 * load generator saturates before the server it measures does, so figures
 * taken with one say more about the generator than the server.
 *
 *   const r = await wrk({ url: "http://127.0.0.1:8000", paths: ["/a", "/b"], headers, seconds: 5 });
 *   r.rps, r.p50, r.p99, r.non2xx
 *
 * A request with a method, headers, a body or several paths (taken in turn)
 * is described to wrk in a generated Lua script; `--latency` output is parsed
 * into req/s and the latency percentiles (ms).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface WrkOptions {
  /** The server's origin (`http://127.0.0.1:8000`); a path in it is ignored when `paths` is given. */
  url: string;
  /** Request targets, sent in turn (each wrk thread starts at the first). Default: the URL's own path. */
  paths?: string[];
  method?: string;
  headers?: Record<string, string>;
  /** The request body, sent as is (set its content-type in `headers`). */
  body?: string;
  connections?: number;
  /** wrk threads; 1 leaves the other core to the server on a two-core machine. */
  threads?: number;
  seconds?: number;
  /** A request unanswered for this long counts as a timeout error. */
  timeoutSeconds?: number;
}

export interface WrkResult {
  requests: number;
  rps: number;
  /** Latency percentiles in milliseconds. */
  p50: number;
  p75: number;
  p90: number;
  p99: number;
  /** Answers with a status outside 200–399. */
  non2xx: number;
  /** Socket errors: connect, read, write, timeout. */
  errors: { connect: number; read: number; write: number; timeout: number };
  /** wrk's own output, for a report or to see what could not be parsed. */
  output: string;
}

/** A Lua string literal of any text: Lua 5.1 knows no `\u` escapes, so non-ASCII bytes are written as `\ddd`. */
export function luaString(text: string): string {
  let out = '"';
  for (const byte of Buffer.from(text, "utf8")) {
    if (byte === 0x22 || byte === 0x5c) out += `\\${String.fromCharCode(byte)}`;
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else out += `\\${byte}`;
  }
  return `${out}"`;
}

/** The Lua script that makes wrk send `opts`' requests: pre-formatted once per thread, then taken in turn. */
export function wrkScript(opts: Pick<WrkOptions, "paths" | "method" | "headers" | "body">): string {
  const paths = opts.paths?.length ? opts.paths : [null];
  const headers = Object.entries(opts.headers ?? {})
    .map(([name, value]) => `[${luaString(name)}] = ${luaString(value)}`)
    .join(", ");
  return [
    `local paths = { ${paths.map((p) => (p === null ? "false" : luaString(p))).join(", ")} }`,
    `local method = ${luaString(opts.method ?? "GET")}`,
    `local headers = { ${headers} }`,
    `local body = ${opts.body === undefined ? "nil" : luaString(opts.body)}`,
    "local requests = {}",
    "local n = 0",
    "init = function(args)",
    "  for i, p in ipairs(paths) do requests[i] = wrk.format(method, p or nil, headers, body) end",
    "end",
    "request = function()",
    "  n = n + 1",
    "  return requests[((n - 1) % #requests) + 1]",
    "end",
    "",
  ].join("\n");
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function duration(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text);
  if (!m) throw new Error(`wrk: cannot read the duration '${text}'`);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

/** Reads wrk's `--latency` report. */
export function parseWrk(output: string): WrkResult {
  const need = (re: RegExp, what: string) => {
    const m = re.exec(output);
    if (!m) throw new Error(`wrk: no ${what} in its output:\n${output}`);
    return m;
  };
  const pct = (p: number) => duration(need(new RegExp(`^\\s*${p}%\\s+(\\S+)`, "m"), `${p}% latency`)[1]!);
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  return {
    requests: Number(need(/(\d+) requests in /, "request count")[1]),
    rps: Number(need(/Requests\/sec:\s+([\d.]+)/, "Requests/sec")[1]),
    p50: pct(50),
    p75: pct(75),
    p90: pct(90),
    p99: pct(99),
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(output)?.[1] ?? 0),
    errors: {
      connect: Number(errors?.[1] ?? 0),
      read: Number(errors?.[2] ?? 0),
      write: Number(errors?.[3] ?? 0),
      timeout: Number(errors?.[4] ?? 0),
    },
    output,
  };
}

/** Runs wrk once against `opts.url` and returns what it measured. */
export async function wrk(opts: WrkOptions): Promise<WrkResult> {
  const dir = mkdtempSync(join(tmpdir(), "bench-wrk-"));
  try {
    const script = join(dir, "requests.lua");
    writeFileSync(script, wrkScript(opts));
    const args = [
      `--threads=${opts.threads ?? 1}`,
      `--connections=${opts.connections ?? 32}`,
      `--duration=${opts.seconds ?? 5}s`,
      `--timeout=${opts.timeoutSeconds ?? 10}s`,
      "--latency",
      `--script=${script}`,
      opts.url,
    ];
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn("wrk", args, { stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      child.stdout.on("data", (c: Buffer) => (out += c.toString("utf8")));
      child.stderr.on("data", (c: Buffer) => (out += c.toString("utf8")));
      child.on("error", (err: NodeJS.ErrnoException) => {
        reject(
          err.code === "ENOENT"
            ? new Error(
                "the bench drives its load with wrk, which is not installed: apt-get install wrk (Debian), brew install wrk (macOS)",
              )
            : err,
        );
      });
      child.on("close", (code) =>
        code === 0 ? resolve(out) : reject(new Error(`wrk exited with ${code}:\n${out}`)),
      );
    });
    return parseWrk(output);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
