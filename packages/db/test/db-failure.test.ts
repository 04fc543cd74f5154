import { describe, expect, it } from "vitest";
import { dbFailure } from "../src/index.ts";

const pg = (code: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`pg ${code}`), { code, ...extra });

describe("dbFailure", () => {
  it("names a lost unique race, in the index's own words when it has them", () => {
    expect(dbFailure(pg("23505", { constraint: "agents_live_name_uq" }))).toEqual({
      kind: "conflict",
      constraint: "agents_live_name_uq",
      message: "an agent with that name already exists",
    });
    expect(dbFailure(pg("23505", { constraint: "tokens_pkey" }))).toEqual({
      kind: "conflict",
      constraint: "tokens_pkey",
      message: "conflicts with an existing resource",
    });
  });

  it("calls a database that is down, restarting or too slow unavailable", () => {
    for (const err of [
      pg("08006"),
      pg("57P01"),
      pg("57014"),
      pg("ECONNREFUSED"),
      new Error("Connection terminated unexpectedly"),
      new Error("timeout exceeded when trying to connect"),
    ])
      expect(dbFailure(err), err.message).toEqual({ kind: "unavailable" });
  });

  it("tells malformed values and busy locks apart from bugs", () => {
    expect(dbFailure(pg("22P02"))).toEqual({ kind: "invalid" });
    expect(dbFailure(pg("55P03"))).toEqual({ kind: "locked" });
    expect(dbFailure(pg("42P01"))).toBeNull();
    expect(dbFailure(new Error("a bug"))).toBeNull();
    expect(dbFailure(null)).toBeNull();
    expect(dbFailure("text")).toBeNull();
  });
});
