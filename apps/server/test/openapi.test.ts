import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { compileErrors, validate } from "@readme/openapi-parser";
import type { Json } from "./helpers.ts";
import { describe, expect, it } from "vitest";
import { openApiDocument } from "../src/openapi.ts";
import { LIFECYCLE_ROUTES } from "./spec-routes.ts";

const COMMITTED = fileURLToPath(new URL("../../../openapi.json", import.meta.url));
const METHODS = ["get", "put", "post", "delete", "patch"] as const;

/** JSON pointers where two JSON values differ (first few), to say what drifted. */
function differences(a: unknown, b: unknown, at = "", out: string[] = []): string[] {
  if (out.length >= 10) return out;
  if (a && b && typeof a === "object" && typeof b === "object" && Array.isArray(a) === Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of keys)
      differences(
        (a as Record<string, unknown>)[key],
        (b as Record<string, unknown>)[key],
        `${at}/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`,
        out,
      );
  } else if (JSON.stringify(a) !== JSON.stringify(b)) {
    out.push(at || "/");
  }
  return out;
}

async function validationErrors(doc: unknown): Promise<string | null> {
  const result = await validate(structuredClone(doc) as Parameters<typeof validate>[0]);
  return result.valid ? null : compileErrors(result);
}

describe("OpenAPI document", () => {
  const generated = JSON.parse(JSON.stringify(openApiDocument()));

  it("the committed openapi.json matches the router (else run `pnpm openapi`)", () => {
    const committedText = readFileSync(COMMITTED, "utf8");
    const expectedText = `${JSON.stringify(generated, null, 2)}\n`;
    if (committedText !== expectedText) {
      const where = differences(JSON.parse(committedText), generated);
      throw new Error(
        `openapi.json is out of date with the router${where.length ? ` (differs at ${where.join(", ")})` : " (formatting)"}: run \`pnpm openapi\` and commit the result`,
      );
    }
  });

  it("is a valid OpenAPI 3.1 document", async () => {
    expect(generated.openapi).toBe("3.1.0");
    expect(await validationErrors(generated)).toBeNull();
  });

  it("the validator rejects a broken document (the check can fail)", async () => {
    const broken = structuredClone(generated);
    broken.paths["/agents"].get.responses = "none";
    delete broken.info.title;
    expect(await validationErrors(broken)).toMatch(/title|responses/);
  });

  it("declares bearer auth on every /api operation and none on the public routes", () => {
    expect(generated.components.securitySchemes.Authorization).toMatchObject({
      type: "http",
      scheme: "bearer",
    });
    const publicPaths = ["/healthz", "/readyz", "/api/openapi.json", "/docs"];
    let protectedOps = 0;
    for (const [path, item] of Object.entries<Record<string, Json>>(generated.paths)) {
      for (const method of METHODS) {
        const op = item[method];
        if (!op) continue;
        if (publicPaths.includes(path)) {
          expect(op.security, `${method} ${path}`).toEqual([]);
          expect(item.servers, `${path} is served from the root, not /api`).toEqual([
            expect.objectContaining({ url: "/" }),
          ]);
        } else {
          expect(op.security, `${method} ${path}`).toEqual([{ Authorization: [] }]);
          protectedOps++;
        }
      }
    }
    expect(protectedOps).toBeGreaterThan(20);
    for (const path of publicPaths) expect(generated.paths[path]?.get, path).toBeDefined();
  });

  it("documents every agent and deployment operation of the contract", () => {
    const ops = new Set<string>();
    for (const [path, item] of Object.entries<Record<string, Json>>(generated.paths)) {
      for (const method of METHODS) if (item[method]) ops.add(`${method.toUpperCase()} ${path}`);
    }
    for (const op of LIFECYCLE_ROUTES) {
      expect(ops.has(op), op).toBe(true);
    }
  });
});
