import { createServer, type Server } from "node:http";

/**
 * A real HTTP server standing in for an agent's ACP server. `mode` decides
 * each answer to the health path: 'ok' (200), 'fail' (503), 'slow' (no answer
 * for a while), 'redirect' (302 to `redirectTo`). It counts requests and the
 * most that were ever in flight at once, and can go down and come back on the
 * same port.
 */
export class HealthTarget {
  mode: "ok" | "fail" | "slow" | "redirect" = "ok";
  /** After this many more 'ok' answers, switch to 'fail' (null: never). */
  okBudget: number | null = null;
  redirectTo = "";
  hits = 0;
  /** When each request arrived (Date.now()). */
  hitTimes: number[] = [];
  /** How long each answer is held. */
  holdMs = 10;
  inFlight = 0;
  maxInFlight = 0;
  paths: string[] = [];
  private server: Server | null = null;
  port = 0;

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => {
      this.hits++;
      this.hitTimes.push(Date.now());
      this.paths.push(req.url ?? "");
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      const finish = (status: number, headers: Record<string, string> = {}) => {
        // Hold each answer briefly, so overlapping probes would show in maxInFlight.
        setTimeout(() => {
          this.inFlight--;
          res.writeHead(status, headers).end(status === 200 ? "ok" : "no");
        }, this.holdMs);
      };
      if (this.mode === "ok" && this.okBudget !== null) {
        if (this.okBudget <= 0) this.mode = "fail";
        else this.okBudget--;
      }
      if (this.mode === "ok") finish(200);
      else if (this.mode === "fail") finish(503);
      else if (this.mode === "redirect") finish(302, { location: this.redirectTo });
      else setTimeout(() => finish(200), 5_000);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
    const address = server.address();
    this.port = typeof address === "object" && address ? address.port : 0;
    this.server = server;
    return this;
  }

  /** Down: the port refuses connections until `start()` again. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    this.inFlight = 0;
  }
}

/** Polls `check` until it returns a value (not undefined) or `timeoutMs` passes. */
export async function waitFor<T>(
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 10_000,
  stepMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
