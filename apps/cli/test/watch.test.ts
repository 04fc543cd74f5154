/** `agentex watch` as a child process against a real server: events print as they arrive. */
import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { useServer } from "@agentex/server/testing";
import { BIN, cleanEnv } from "./run.ts";

/** Starts `agentex watch ...`; resolves `lines` as stdout lines arrive. */
function watch(args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [BIN, "watch", ...args], { env });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on("exit", (code) => resolve({ code, stdout, stderr })),
  );
  return { child, done, lines: () => stdout.split("\n").filter(Boolean) };
}

describe("agentex watch", () => {
  const s = useServer();

  it(
    "prints events as they arrive (--json: one object per line), for one agent by name",
    { timeout: 60_000 },
    async () => {
      const name = `watch-${Math.random().toString(16).slice(2, 10)}`;
      const agent = (await s.api("POST", "/api/agents/register-build", { body: { name, description: "" } }))
        .body;
      const env = cleanEnv({ AGENTEX_URL: s.url, AGENTEX_TOKEN: s.adminToken });
      const w = watch(["--agent", name, "--json", "--count", "2"], env);
      // The CLI subscribes once it has started and resolved the name: keep changing things until it has printed two.
      let exited = false;
      void w.done.then(() => (exited = true));
      const created: string[] = [];
      while (!exited && created.length < 60) {
        created.push(
          (await s.api("POST", `/api/agents/${agent.id}/deployments`, { body: { docker_image: "img:test" } }))
            .body.id,
        );
        await new Promise((r) => setTimeout(r, 300));
      }
      const result = await w.done;
      expect(result.code, result.stderr).toBe(0);
      const events = result.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      expect(events.map((e) => e.type)).toEqual(["deployment.created", "deployment.created"]);
      const at = created.indexOf(events[0].deployment_id);
      expect(at).toBeGreaterThanOrEqual(0);
      expect(events[1].deployment_id).toBe(created[at + 1]); // consecutive, in order
      const dep = { id: events[0].deployment_id as string };
      await s.api("DELETE", `/api/agents/${agent.id}/deployments/${dep.id}`);

      // Human lines, replaying from an id (--since) so nothing races.
      const since = String(events[0].id - 1);
      const human = watch(["--agent", agent.id, "--since", since, "--count", "2"], env);
      const out = await human.done;
      expect(out.code, out.stderr).toBe(0);
      const lines = out.stdout.trim().split("\n");
      expect(lines[0]).toMatch(
        new RegExp(`#${events[0].id}\\s+deployment\\.created\\s+agent=${agent.id}\\s+deployment=${dep.id}`),
      );
      expect(lines[1]).toMatch(new RegExp(`#${events[1].id}\\s+deployment\\.created`));
    },
  );

  it("exits with the not-found code for an agent it cannot see, and 1 on a bad flag", async () => {
    const env = cleanEnv({ AGENTEX_URL: s.url, AGENTEX_TOKEN: s.adminToken });
    const missing = await watch(["--agent", "no-such-agent"], env).done;
    expect(missing.code).toBe(2);
    const bad = await watch(["--count", "zero"], env).done;
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--count/);
  });
});
