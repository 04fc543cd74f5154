import { existsSync } from "node:fs";
import { TEST_STORE } from "@agentex/db/testing";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, screenshot, type Browser } from "./chromium.ts";
import { useServer } from "./helpers.ts";

/**
 * Drives /docs in headless Debian Chromium: the page renders from the served
 * OpenAPI document with assets from this origin only, lists the agent and
 * deployment operations, and "Try it out" on GET /agents is refused without a
 * token and succeeds after "Authorize" with one.
 */

describe(`docs page in a real browser (${TEST_STORE})`, () => {
  const s = useServer();
  let browser: Browser | undefined;
  let page: Page;
  const requests: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    browser = await launchChromium({ width: 1280, height: 1400 });
    page = browser.page;
    page.on("request", (req) => requests.push(req.url()));
    page.on("pageerror", (err) => pageErrors.push(err.message));
    page.on("console", (msg) => {
      if (msg.type() === "error") pageErrors.push(msg.text());
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  it("loads from this server alone and lists the agent and deployment operations", async () => {
    await page.goto(`${s.url}/docs`, { waitUntil: "load" });
    await page.locator(".opblock").first().waitFor({ timeout: 20_000 });
    await expect(page.locator(".info .title").innerText()).resolves.toContain("Agent registry");

    const operations = await page
      .locator(".opblock-summary")
      .evaluateAll((els) =>
        els.map(
          (el) =>
            `${el.querySelector(".opblock-summary-method")?.textContent?.trim()} ${el.querySelector(".opblock-summary-path")?.getAttribute("data-path")}`,
        ),
      );
    for (const op of [
      "POST /agents/register-build",
      "POST /agents/register",
      "GET /agents",
      "GET /agents/{agent_id}",
      "DELETE /agents/{agent_id}",
      "POST /agents/{agent_id}/deployments",
      "GET /agents/{agent_id}/deployments",
      "POST /agents/{agent_id}/deployments/{deployment_id}/promote",
      "DELETE /agents/{agent_id}/deployments/{deployment_id}",
    ]) {
      expect(operations, op).toContain(op);
    }
    // The bearer scheme is offered by the page.
    await expect(page.locator(".btn.authorize").count()).resolves.toBeGreaterThan(0);
    // Offline: every request the page made stayed on this origin.
    expect(requests.length).toBeGreaterThan(3);
    expect(requests.filter((url) => !url.startsWith(`${s.url}/`) && !url.startsWith("data:"))).toEqual([]);
  });

  it("try it out: GET /agents is 401 without a token and 200 after Authorize", async () => {
    const name = `docs-${Date.now()}`;
    expect(
      (
        await s.api("POST", "/api/agents/register-build", {
          body: { name, description: "seen from the docs page" },
        })
      ).status,
    ).toBe(200);

    const operation = page.locator("#operations-agents-agents-list");
    await operation.locator(".opblock-summary").first().click();
    const execute = operation.locator("button.execute");
    await execute.waitFor();

    const callAgents = async () => {
      const response = page.waitForResponse(
        (res) => new URL(res.url()).pathname === "/api/agents" && res.request().method() === "GET",
      );
      await execute.click();
      return response;
    };

    const refused = await callAgents();
    expect(refused.status()).toBe(401);
    await operation.locator(".btn-clear").click();

    await page.locator(".auth-wrapper .btn.authorize").click();
    const dialog = page.locator(".dialog-ux");
    await dialog.locator("input").first().fill(s.adminToken);
    await dialog.locator("button.authorize").click();
    await dialog.locator("button.btn-done").click();

    const ok = await callAgents();
    expect(ok.status()).toBe(200);
    expect(ok.request().headers().authorization).toBe(`Bearer ${s.adminToken}`);
    const agents = (await ok.json()) as Array<{ name: string }>;
    expect(agents.map((a) => a.name)).toContain(name);
    // The page shows the live response.
    const live = operation.locator(".live-responses-table tbody");
    await live.locator(".response-col_status", { hasText: /^\s*200\s*$/ }).waitFor({ timeout: 10_000 });
    await expect(live.innerText()).resolves.toContain(name);

    const shot = await screenshot(page, "docs", { fullPage: false });
    expect(existsSync(shot)).toBe(true);
    expect(pageErrors.filter((e) => !/401|Unauthorized/i.test(e))).toEqual([]);
  });
});
