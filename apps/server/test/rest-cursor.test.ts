import { describe, expect, it } from "vitest";
import { useServer } from "./helpers.ts";

const s = useServer();

function nextLink(headers: Headers): string | null {
  const link = headers.get("link");
  const match = link ? /^<([^>]+)>; rel="next"$/.exec(link) : null;
  return match ? match[1]! : null;
}

describe("REST lists page by cursor (bare arrays, next page in headers)", () => {
  it("GET /api/agents walks every agent once by cursor, following x-next-cursor and Link", async () => {
    const me = await s.principal({ can_create_agents: true });
    const created: string[] = [];
    for (let i = 0; i < 7; i++) {
      const res = await s.api("POST", "/api/agents/register-build", {
        token: me.token,
        body: { name: `cur-${i}-${me.id.slice(0, 6)}`, description: "c" },
      });
      expect(res.status).toBe(200);
      created.push(res.body.id);
    }
    const seen: string[] = [];
    let path: string | null = "/api/agents?limit=3&order_by=name&order_direction=asc";
    let pages = 0;
    while (path) {
      const res = await s.api("GET", path, { token: me.token });
      expect(res.status).toBe(200);
      expect(Array.isArray(res.body)).toBe(true);
      seen.push(...res.body.map((a: { id: string }) => a.id));
      const cursor = res.headers.get("x-next-cursor");
      const link = nextLink(res.headers);
      if (cursor) {
        expect(link).toBe(
          `/api/agents?limit=3&order_by=name&order_direction=asc&cursor=${encodeURIComponent(cursor)}`,
        );
      } else {
        expect(res.headers.get("link")).toBeNull();
      }
      path = link;
      pages++;
    }
    expect(pages).toBe(3);
    expect(seen).toHaveLength(7);
    expect(new Set(seen)).toEqual(new Set(created));
  });

  it("a page_number page also announces the cursor after it (Link drops page_number)", async () => {
    const res = await s.api("GET", "/api/agents?limit=2&page_number=2&order_by=name&order_direction=asc");
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(2);
    const link = nextLink(res.headers)!;
    expect(link).not.toContain("page_number");
    const next = await s.api("GET", link);
    const page3 = await s.api("GET", "/api/agents?limit=2&page_number=3&order_by=name&order_direction=asc");
    expect(next.body.map((a: { id: string }) => a.id)).toEqual(page3.body.map((a: { id: string }) => a.id));
  });

  it("refuses a forged cursor, a cursor for another ordering, and cursor with page_number (422 naming cursor)", async () => {
    const first = await s.api("GET", "/api/agents?limit=1&order_by=name&order_direction=asc");
    const cursor = first.headers.get("x-next-cursor")!;
    expect(cursor).toBeTruthy();
    for (const path of [
      `/api/agents?cursor=${encodeURIComponent("bm90IGEgY3Vyc29y")}`,
      `/api/agents?order_by=created_at&cursor=${encodeURIComponent(cursor)}`,
      `/api/agents?order_by=name&order_direction=asc&page_number=2&cursor=${encodeURIComponent(cursor)}`,
    ]) {
      const res = await s.api("GET", path);
      expect(res.status, path).toBe(422);
      expect(res.body.issues.map((i: { field: string }) => i.field)).toEqual(["cursor"]);
    }
  });

  it("GET /api/agents/{id}/deployments pages newest first by cursor", async () => {
    const agent = await s.api("POST", "/api/agents/register-build", {
      body: { name: `dep-cur-${Date.now()}`, description: "d" },
    });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const d = await s.api("POST", `/api/agents/${agent.body.id}/deployments`, {
        body: { docker_image: `img:${i}` },
      });
      ids.push(d.body.id);
    }
    const seen: string[] = [];
    let path: string | null = `/api/agents/${agent.body.id}/deployments?limit=2`;
    while (path) {
      const res = await s.api("GET", path);
      expect(res.status).toBe(200);
      seen.push(...res.body.map((d: { id: string }) => d.id));
      path = nextLink(res.headers);
      if (path) expect(res.headers.get("x-next-cursor")).toBeTruthy();
    }
    expect(seen).toEqual([...ids].reverse());
  });

  it("GET /api/agents/{id}/deployments follows the agents' rule: a cursor keeps its ordering; with page_number or another ordering it is a 422 naming cursor", async () => {
    const agent = await s.api("POST", "/api/agents/register-build", {
      body: { name: `dep-rule-${Date.now()}`, description: "d" },
    });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const d = await s.api("POST", `/api/agents/${agent.body.id}/deployments`, {
        body: { docker_image: `img:${i}` },
      });
      ids.push(d.body.id);
    }
    const base = `/api/agents/${agent.body.id}/deployments`;
    const seen: string[] = [];
    let path: string | null = `${base}?limit=2&order_by=created_at&order_direction=asc`;
    while (path) {
      const res = await s.api("GET", path);
      expect(res.status).toBe(200);
      seen.push(...res.body.map((d: { id: string }) => d.id));
      path = nextLink(res.headers);
    }
    expect(seen).toEqual(ids);

    const first = await s.api("GET", `${base}?limit=1`);
    const cursor = encodeURIComponent(first.headers.get("x-next-cursor")!);
    for (const query of [
      `cursor=${cursor}&page_number=1`,
      `cursor=${cursor}&page_number=2`,
      `cursor=${cursor}&order_direction=asc`,
      `cursor=${cursor}&order_by=promoted_at`,
    ]) {
      const res = await s.api("GET", `${base}?limit=1&${query}`);
      expect(res.status, query).toBe(422);
      expect(res.body.issues.map((i: { field: string }) => i.field)).toEqual(["cursor"]);
    }
  });
});
