/**
 * Loopback plumbing the test harnesses and the benchmarks (bench/) share: a
 * free port, the environment a locally spawned server starts from, and
 * reading a raw node:http response to the end.
 */
import type { IncomingMessage } from "node:http";
import { createServer } from "node:net";

/** A port nobody listens on right now (the kernel's pick; closed again at once). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      const port = typeof address === "object" && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** A server child's environment: nothing inherited but PATH and HOME, production mode, loopback on `port`. */
export function serverEnv(port: number, env: Record<string, string>): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "/root",
    NODE_ENV: "production",
    HOST: "127.0.0.1",
    PORT: String(port),
    ...env,
  };
}

/** The status and whole body of a node:http response. */
export function readAll(res: IncomingMessage): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on("data", (c: Buffer) => chunks.push(c));
    res.on("end", () =>
      resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }),
    );
    res.on("error", reject);
  });
}
