import { withTransaction } from "@agentex/db";
import { TEST_STORE } from "@agentex/db/testing";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import {
  authenticate,
  conflict,
  deleteAgent,
  runIdempotent,
  type Caller,
  type CredentialCache,
  type LifecycleEvent,
} from "@agentex/core";
import { createCaller, createContextInner } from "../src/index.ts";
import { SECRET, rejection, uniqueName, useFixture } from "./helpers.ts";
import { registerInput } from "./lifecycle-helpers.ts";

type Scope = "credential" | "principal" | "agent";

/** What the host was told after a request, and what the database showed each hook when it ran. */
interface Told {
  invalidated: { scope: Scope; id: string; credentialStillWorks: boolean }[];
  events: LifecycleEvent[];
  feeds: number[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe(`after-commit work runs once, after the outermost commit, with or without a key (${TEST_STORE})`, () => {
  const f = useFixture();

  /**
   * Whether `credential` still authenticates as a reader outside the request's
   * transaction sees it. Postgres: another pool connection, which sees only
   * committed rows. Embedded: the one session is held by an open transaction,
   * so a read that gets no answer within the wait means "not committed yet".
   */
  async function worksOutside(credential: string): Promise<boolean> {
    const read = authenticate(f.db.db, credential).then((c) => c !== null);
    return Promise.race([read, sleep(300).then(() => true)]);
  }

  /** The host's side of the hooks (the server wires the auth cache and the feed here). */
  function host(credential: () => string) {
    const told: Told = { invalidated: [], events: [], feeds: [] };
    const note = (scope: Scope) => async (id: string) => {
      told.invalidated.push({ scope, id, credentialStillWorks: await worksOutside(credential()) });
    };
    const auth: CredentialCache = {
      authenticate: (c) => authenticate(f.db.db, c),
      credential: note("credential"),
      principal: note("principal"),
      agent: note("agent"),
    };
    const events = {
      onEvent: (e: LifecycleEvent) => void told.events.push(e),
      onFeed: (id: number) => void told.feeds.push(id),
    };
    return { told, auth, events };
  }

  const callerFor = (principal: Caller, key: string | null, h: ReturnType<typeof host>) =>
    createCaller(
      createContextInner({
        db: f.db.db,
        secretKey: SECRET,
        principal,
        idempotencyKey: key,
        events: h.events,
        auth: h.auth,
      }),
    );

  /** An owner, its registered agent (and that agent's internal key), and an external key of the agent. */
  async function ownedAgent() {
    const { principal } = await f.principal();
    const owner = f.as(principal);
    const registered = await owner.agents.register(registerInput(uniqueName()));
    const external = await owner.agentApiKeys.create({ agent_id: registered.id, name: uniqueName("ci") });
    return { principal, agent: registered, internalKey: registered.agent_api_key, external };
  }

  const eventOf = (id: number) =>
    f.db.db.selectFrom("events").select(["type", "agent_id"]).where("id", "=", id).executeTakeFirst();

  interface Case {
    name: string;
    /** Sets up, then returns the credential that must stop, the call, and the invalidation expected. */
    arrange(): Promise<{
      principal: Caller;
      credential: string;
      act: (caller: ReturnType<typeof callerFor>) => Promise<unknown>;
      expected: { scope: Scope; id: string };
    }>;
  }

  const cases: Case[] = [
    {
      name: "agentApiKeys.revoke",
      async arrange() {
        const { principal, external } = await ownedAgent();
        return {
          principal,
          credential: external.api_key,
          act: (c) => c.agentApiKeys.revoke({ id: external.id }),
          expected: { scope: "credential", id: external.id },
        };
      },
    },
    {
      name: "agentApiKeys.deleteByName",
      async arrange() {
        const { principal, agent, external } = await ownedAgent();
        return {
          principal,
          credential: external.api_key,
          act: (c) =>
            c.agentApiKeys.deleteByName({
              agent_id: agent.id,
              api_key_name: external.name,
              api_key_type: "external",
            }),
          expected: { scope: "credential", id: external.id },
        };
      },
    },
    {
      name: "tokens.revoke",
      async arrange() {
        const { principal, token } = await f.principal();
        const row = await f.db.db
          .selectFrom("api_tokens")
          .select("id")
          .where("principal_id", "=", principal.id)
          .executeTakeFirstOrThrow();
        return {
          principal,
          credential: token,
          act: (c) => c.tokens.revoke({ token_id: row.id }),
          expected: { scope: "credential", id: row.id },
        };
      },
    },
    {
      name: "principals.disable",
      async arrange() {
        const { principal: admin } = await f.principal({ admin: true });
        const target = await f.principal();
        return {
          principal: admin,
          credential: target.token,
          act: (c) => c.principals.disable({ principal_id: target.principal.id }),
          expected: { scope: "principal", id: target.principal.id },
        };
      },
    },
    {
      name: "principals.delete",
      async arrange() {
        const { principal: admin } = await f.principal({ admin: true });
        const target = await f.principal();
        return {
          principal: admin,
          credential: target.token,
          act: (c) => c.principals.delete({ principal_id: target.principal.id }),
          expected: { scope: "principal", id: target.principal.id },
        };
      },
    },
    {
      name: "agents.rotateKey",
      async arrange() {
        const { principal, agent, internalKey } = await ownedAgent();
        return {
          principal,
          credential: internalKey,
          act: (c) => c.agents.rotateKey({ agent_id: agent.id }),
          expected: { scope: "agent", id: agent.id },
        };
      },
    },
  ];

  for (const key of [null, "after-commit-key"]) {
    const label = key ? "with an Idempotency-Key" : "without a key";

    for (const c of cases) {
      it(`${c.name} ${label}: the invalidation comes once, after the commit (a replay tells nothing)`, async () => {
        const { principal, credential, act, expected } = await c.arrange();
        const h = host(() => credential);
        await act(callerFor(principal, key, h));
        expect(h.told.invalidated).toEqual([{ ...expected, credentialStillWorks: false }]);
        expect(await authenticate(f.db.db, credential)).toBeNull();
        if (key) {
          const again = host(() => credential);
          await act(callerFor(principal, key, again));
          expect(again.told).toEqual({ invalidated: [], events: [], feeds: [] });
        }
      });
    }

    it(`agents.delete ${label}: the event, the feed's NOTIFY and the invalidation each come once, after the commit`, async () => {
      const { principal, agent, external } = await ownedAgent();
      const h = host(() => external.api_key);
      await callerFor(principal, key, h).agents.delete({ agent_id: agent.id });
      expect(h.told.invalidated).toEqual([{ scope: "agent", id: agent.id, credentialStillWorks: false }]);
      expect(h.told.events).toEqual(["agent_deleted"]);
      expect(h.told.feeds).toHaveLength(1);
      expect(await eventOf(h.told.feeds[0]!)).toEqual({ type: "agent.deleted", agent_id: agent.id });
    });

    it(`deployments.create ${label}: the feed is told the event id once`, async () => {
      const { principal, agent } = await ownedAgent();
      const h = host(() => "");
      const created = await callerFor(principal, key, h).deployments.create({
        agent_id: agent.id,
        docker_image: "img:after-commit",
      });
      expect(h.told.events).toEqual(["deployment_created"]);
      expect(h.told.feeds).toHaveLength(1);
      const row = await f.db.db
        .selectFrom("events")
        .select(["type", "deployment_id"])
        .where("id", "=", h.told.feeds[0]!)
        .executeTakeFirst();
      expect(row).toEqual({ type: "deployment.created", deployment_id: created.id });
    });
  }

  /** The lifecycle as a request under `principal` would call it, told to `h`. */
  const actorOf = (principal: Caller, h: ReturnType<typeof host>) => ({
    db: f.db.db,
    principal,
    secretKey: SECRET,
    events: h.events,
    auth: h.auth,
    requestId: "after-commit-test",
    setHeader: () => {},
  });

  /** A real serialization failure (SQLSTATE 40001): the outermost transaction retries. */
  const serializationFailure = (db: typeof f.db.db) =>
    sql`do $$ begin raise exception 'forced' using errcode = '40001'; end $$`.execute(db);

  it("without a key: work joined into an outer transaction that rolls back tells nothing", async () => {
    const { principal, agent, external } = await ownedAgent();
    const h = host(() => external.api_key);
    const actor = actorOf(principal, h);
    await expect(
      withTransaction(f.db.db, async (trx) => {
        await deleteAgent({ ...actor, db: trx }, { id: agent.id });
        throw new Error("the outer work failed after the delete");
      }),
    ).rejects.toThrow("the outer work failed");
    expect(h.told).toEqual({ invalidated: [], events: [], feeds: [] });
    expect(await authenticate(f.db.db, external.api_key)).not.toBeNull();
  });

  it("without a key: an attempt that is retried tells nothing; the attempt that commits tells once", async () => {
    const { principal, agent, external } = await ownedAgent();
    const h = host(() => external.api_key);
    const actor = actorOf(principal, h);
    let attempts = 0;
    await withTransaction(f.db.db, async (trx) => {
      await deleteAgent({ ...actor, db: trx }, { id: agent.id });
      if (++attempts === 1) await serializationFailure(trx);
    });
    expect(attempts).toBe(2);
    expect(h.told.invalidated).toEqual([{ scope: "agent", id: agent.id, credentialStillWorks: false }]);
    expect(h.told.events).toEqual(["agent_deleted"]);
    expect(h.told.feeds).toHaveLength(1);
  });

  it("with a key: work that the call then fails (a kept error) is rolled back and tells nothing", async () => {
    const { principal, agent, external } = await ownedAgent();
    const h = host(() => external.api_key);
    const actor = actorOf(principal, h);
    const call = () =>
      runIdempotent(
        { ctx: actor, path: "test.deleteThenRefuse", rawInput: {}, key: "refused" },
        async (inner) => {
          await deleteAgent({ ...actor, db: inner.db }, { id: agent.id });
          return { ok: false as const, error: conflict("refused after the delete") };
        },
      );
    expect((await call()).ok).toBe(false);
    expect(h.told).toEqual({ invalidated: [], events: [], feeds: [] });
    expect(await authenticate(f.db.db, external.api_key)).not.toBeNull();
    // The refusal was kept: a retry replays it, and still does nothing.
    expect((await rejection(call())).message).toBe("refused after the delete");
    expect(h.told).toEqual({ invalidated: [], events: [], feeds: [] });
  });

  it("with a key: an attempt that is retried tells nothing; the attempt that commits tells once", async () => {
    const { principal, agent, external } = await ownedAgent();
    const h = host(() => external.api_key);
    const actor = actorOf(principal, h);
    let attempts = 0;
    const result = await runIdempotent(
      { ctx: actor, path: "test.deleteRetried", rawInput: {}, key: "retried" },
      async (inner) => {
        await deleteAgent({ ...actor, db: inner.db }, { id: agent.id });
        if (++attempts === 1) await serializationFailure(inner.db);
        return { ok: true as const, data: null };
      },
    );
    expect(result.ok).toBe(true);
    expect(attempts).toBe(2);
    expect(h.told.invalidated).toEqual([{ scope: "agent", id: agent.id, credentialStillWorks: false }]);
    expect(h.told.events).toEqual(["agent_deleted"]);
    expect(h.told.feeds).toHaveLength(1);
  });
});
