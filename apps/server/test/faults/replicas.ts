/** What the replica fault tests share: a server's environment on a scratch database, and waiting on the network. */
import { connect } from "node:net";
import { SECRET_KEY, sleep, type ApiResult } from "../process.ts";

export const SHUTDOWN_TIMEOUT_MS = 15_000;

/** A replica's environment on the database at `url`: every replica shares the secret and the drain timeout. */
export function replicaEnv(url: string): Record<string, string> {
  return {
    DATABASE_URL: url,
    AGENTEX_SECRET_KEY: SECRET_KEY,
    AGENTEX_SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
  };
}

/** The body of a 200, or a thrown error naming the step. */
export function ok(res: ApiResult, what: string): ApiResult["body"] {
  if (res.status !== 200) throw new Error(`${what}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export async function pollUntil(
  check: () => Promise<boolean>,
  timeoutMs: number,
  everyMs = 100,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 10_000 && Date.now() < deadline; i++) {
    if (await check()) return true;
    await sleep(everyMs);
  }
  return false;
}

export function tcpConnect(port: number): Promise<"connected" | "refused" | "error"> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: "127.0.0.1" });
    socket.setTimeout(2_000);
    socket.once("connect", () => {
      socket.destroy();
      resolve("connected");
    });
    socket.once("timeout", () => {
      socket.destroy();
      resolve("error");
    });
    socket.once("error", (err: NodeJS.ErrnoException) =>
      resolve(err.code === "ECONNREFUSED" ? "refused" : "error"),
    );
  });
}
