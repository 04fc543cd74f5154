import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { TEST_STORE } from "@agentex/db/testing";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, screenshot, type Browser } from "./chromium.ts";
import { useServer } from "./helpers.ts";

/**
 * The operator console in headless Debian Chromium against a real server:
 * sign in, find a BuildOnly agent under its filter, share it, promote in the
 * UI (with the from → to confirmation), see a promote made through the API
 * appear live, roll back in the UI, read the ledger; a stale page is told that
 * production changed; a viewer sees no action buttons and the server refuses
 * the viewer's actions anyway. Screenshots go to test-artifacts/.
 */

const CONSOLE_DIR = fileURLToPath(new URL("../../console/", import.meta.url));

// `pnpm test` on a fresh clone has not run `pnpm build`: build the page once (a few seconds).
function ensureConsoleBuilt(): string {
  const dist = join(CONSOLE_DIR, "dist");
  if (!existsSync(join(dist, "index.html"))) {
    execFileSync(
      process.execPath,
      [join(CONSOLE_DIR, "node_modules/vite/bin/vite.js"), "build", "--logLevel", "warn"],
      {
        cwd: CONSOLE_DIR,
        stdio: "inherit",
      },
    );
  }
  return dist;
}

describe(`operator console in a real browser (${TEST_STORE})`, () => {
  ensureConsoleBuilt();
  const s = useServer();
  let browser: Browser | undefined;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];
  const foreignRequests: string[] = [];

  const agentName = `console-${Date.now().toString(36)}`;
  let agentId = "";
  let d1 = "";
  let d2 = "";
  let viewer: { id: string; token: string };

  const api = async (method: string, path: string, body?: unknown, token?: string) => {
    const res = await s.api(method, path, {
      ...(body !== undefined ? { body } : {}),
      ...(token ? { token } : {}),
    });
    return res;
  };

  const shot = (name: string) => screenshot(page, `console-${name}`, { fullPage: true });

  const signIn = async (p: Page, token: string) => {
    await p.goto(`${s.url}/console/`, { waitUntil: "load" });
    await p.getByLabel("API token").fill(token);
    await p.getByRole("button", { name: "Sign in" }).click();
    await p.getByRole("button", { name: "Sign out" }).waitFor({ timeout: 20_000 });
  };

  beforeAll(async () => {
    browser = await launchChromium({ width: 1280, height: 1000 });
    ({ context, page } = browser);
    // A step that cannot happen fails with the locator it waited for, well inside the test's own timeout.
    context.setDefaultTimeout(10_000);
    context.on("request", (req) => {
      if (!req.url().startsWith(`${s.url}/`) && !req.url().startsWith("data:"))
        foreignRequests.push(req.url());
    });
    page.on("pageerror", (err) => pageErrors.push(err.message));

    // The agent, built but not deployed, and a teammate to share it with.
    const built = await api("POST", "/api/agents/register-build", {
      name: agentName,
      description: "answers tickets",
    });
    expect(built.status).toBe(200);
    agentId = built.body.id;
    viewer = await s.principal({ can_create_agents: false });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
  });

  it("1–2: signs in and shows the BuildOnly agent under its filter, with counts", async () => {
    await signIn(page, s.adminToken);
    const filter = page.getByRole("button", { name: /^BuildOnly/ });
    await filter.click();
    await expect(filter.getAttribute("aria-pressed")).resolves.toBe("true");
    const row = page.locator(`tr[data-agent="${agentName}"]`);
    await row.waitFor();
    await expect(row.innerText()).resolves.toContain("BuildOnly");
    await page.getByLabel("Search by name").fill(agentName);
    await page.locator("tbody tr").first().waitFor();
    await expect(page.locator("table.agents tbody tr").count()).resolves.toBe(1);
    await shot("list");
  });

  it("3: shares it with a viewer from the agent page", async () => {
    await page.locator(`tr[data-agent="${agentName}"] a`).click();
    await page.getByRole("heading", { name: agentName }).waitFor();
    await page.getByLabel("Principal id").fill(viewer.id);
    await page.getByLabel("Role").selectOption("viewer");
    await page.getByRole("button", { name: "Share" }).click();
    await page.locator(`tr[data-principal="${viewer.id}"]`).waitFor();
    await expect(
      page.getByRole("status").filter({ hasText: "Granted viewer" }).count(),
    ).resolves.toBeGreaterThan(0);
    const grants = await api("GET", `/api/agents/${agentId}/grants`);
    expect(
      grants.body.map((g: { principal_id: string; role: string }) => `${g.principal_id}:${g.role}`),
    ).toContain(`${viewer.id}:viewer`);
    // The last-owner rule is shown: the only owner's Remove is disabled.
    const me = (await api("GET", "/api/me")).body.id as string;
    await expect(page.locator(`tr[data-principal="${me}"] button`).isDisabled()).resolves.toBe(true);
  });

  it("4–6: deployments created and registered through the API appear; promote in the UI with from → to", async () => {
    for (const [i, image] of ["registry.local/bot:1", "registry.local/bot:2"].entries()) {
      const dep = await api("POST", `/api/agents/${agentId}/deployments`, { docker_image: image });
      expect(dep.status).toBe(200);
      const reg = await api("POST", "/api/agents/register", {
        name: agentName,
        description: "answers tickets",
        acp_url: `http://10.0.0.${i + 1}:8000`,
        acp_type: "async",
        registration_metadata: { deployment_id: dep.body.id },
      });
      expect(reg.status).toBe(200);
      if (i === 0) d1 = dep.body.id;
      else d2 = dep.body.id;
    }
    const row = page.locator(`tr[data-deployment="${d1}"]`);
    await row.waitFor({ timeout: 10_000 });
    await row.getByRole("button", { name: /Promote/ }).click();
    const dialog = page.getByRole("dialog");
    await expect(dialog.innerText()).resolves.toMatch(new RegExp(`none\\s*→\\s*${d1.slice(0, 8)}`));
    await dialog.getByRole("button", { name: "Promote" }).click();
    await page.getByTestId("production-deployment").filter({ hasText: d1 }).waitFor();
    await expect(page.getByTestId("production-url").innerText()).resolves.toBe("http://10.0.0.1:8000");
    const agent = await api("GET", `/api/agents/${agentId}`);
    expect(agent.body.production_deployment_id).toBe(d1);
    expect(agent.body.status).toBe("Ready");
    await shot("agent");
  });

  it("7: a promote made through the API appears live, without a reload", async () => {
    await page.locator(".live-live").waitFor({ timeout: 10_000 });
    const navigations: string[] = [];
    page.on("framenavigated", (f) => navigations.push(f.url()));
    const res = await api("POST", `/api/agents/${agentId}/deployments/${d2}/promote`);
    expect(res.status).toBe(200);
    await page.getByTestId("production-deployment").filter({ hasText: d2 }).waitFor({ timeout: 5_000 });
    expect(navigations).toEqual([]);
  });

  it("8: rolls back in the UI", async () => {
    await page.getByRole("button", { name: "Roll back" }).click();
    const dialog = page.getByRole("dialog");
    await expect(dialog.innerText()).resolves.toContain(d2.slice(0, 8));
    await dialog.getByRole("button", { name: "Roll back" }).click();
    await page.getByTestId("production-deployment").filter({ hasText: d1 }).waitFor();
    expect((await api("GET", `/api/agents/${agentId}`)).body.production_deployment_id).toBe(d1);
  });

  it("9: the ledger shows every production change, newest first", async () => {
    const items = page.locator("ol.timeline li[data-kind]");
    await expect.poll(() => items.count(), { timeout: 10_000 }).toBe(3);
    await expect(items.nth(0).getAttribute("data-kind")).resolves.toBe("rollback");
    await expect(items.nth(0).innerText()).resolves.toContain(`${d2.slice(0, 8)} → ${d1.slice(0, 8)}`);
    await expect(items.nth(2).innerText()).resolves.toContain(`none → ${d1.slice(0, 8)}`);
    await page.getByRole("heading", { name: "Promotion ledger" }).scrollIntoViewIfNeeded();
    await screenshot(page.locator('section[aria-labelledby="ledger-title"]'), "console-ledger");
  });

  it("a stale page is told production changed instead of overwriting it", async () => {
    await page
      .locator(`tr[data-deployment="${d2}"]`)
      .getByRole("button", { name: /Promote/ })
      .click();
    const dialog = page.getByRole("dialog");
    await dialog.waitFor();
    // Someone else changes production while the operator is looking at the dialog.
    expect((await api("POST", `/api/agents/${agentId}/deployments/${d2}/promote`)).status).toBe(200);
    await dialog.getByRole("button", { name: "Promote" }).click();
    const alert = page.getByRole("alert").filter({ hasText: "Production changed" });
    await alert.waitFor({ timeout: 10_000 });
    await expect(alert.innerText()).resolves.toMatch(/request id/);
  });

  it("a viewer sees no action buttons, and the server refuses the viewer anyway", async () => {
    const viewerPage = await context.newPage();
    await signIn(viewerPage, viewer.token);
    await viewerPage.goto(`${s.url}/console/#/agents/${agentId}`);
    await viewerPage.getByRole("heading", { name: agentName }).waitFor();
    await viewerPage.locator(`tr[data-deployment="${d1}"]`).waitFor();
    await expect(viewerPage.getByTestId("my-role").innerText()).resolves.toBe("viewer");
    for (const name of [/Promote/, /Roll back/, /Share/, /Create key/, /Remove/, /Revoke/]) {
      await expect(viewerPage.getByRole("button", { name }).count(), String(name)).resolves.toBe(0);
    }
    const refused = await api(
      "POST",
      `/api/agents/${agentId}/deployments/${d1}/promote`,
      undefined,
      viewer.token,
    );
    expect(refused.status).toBe(403);
    const rollback = await api("POST", `/api/agents/${agentId}/rollback`, {}, viewer.token);
    expect(rollback.status).toBe(403);
    await viewerPage.close();
  });

  it("sign out forgets the token; a revoked token returns to sign-in", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("API token").waitFor();
    await expect(page.evaluate(() => sessionStorage.length)).resolves.toBe(0);
    // A token revoked while signed in: the next call's 401 returns to sign-in.
    const issued = await api("POST", `/api/principals/${viewer.id}/tokens`, { name: "short-lived" });
    await signIn(page, issued.body.token);
    expect((await api("DELETE", `/api/tokens/${issued.body.id}`)).status).toBe(200);
    // The next call is refused with 401: back to sign-in. A new filter's query makes one, unless another
    // of the page's calls was refused first (then the page is already back at sign-in, the button gone).
    await page
      .getByRole("button", { name: /^Ready/ })
      .click({ timeout: 2_000 })
      .catch(() => {});
    await page.getByLabel("API token").waitFor({ timeout: 10_000 });
    await expect(page.getByRole("status").filter({ hasText: "session ended" }).count()).resolves.toBe(1);
  });

  it("loaded nothing from outside this origin and threw no page errors", () => {
    expect(foreignRequests).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
