import type { EventRow } from "@agentex/db";
import { z } from "zod";
import { IsoTimestamp, Uuid, iso } from "./common.ts";

export const EVENT_TYPES = [
  "agent.created",
  "agent.registered",
  "agent.deleted",
  "deployment.created",
  "deployment.ready",
  "deployment.deleted",
  "production.changed",
  "health.changed",
  /** Not a change: the stream could not resume from the id asked for (it fell out of retention). */
  "reset",
] as const;
export const EventType = z.enum(EVENT_TYPES).meta({ id: "EventType" });
export type EventType = z.infer<typeof EventType>;

export const ChangeEvent = z
  .object({
    id: z.number().int().nonnegative(),
    type: EventType,
    agent_id: Uuid.nullable(),
    deployment_id: Uuid.nullable(),
    at: IsoTimestamp,
    data: z.record(z.string(), z.unknown()),
  })
  .meta({ id: "ChangeEvent" });
export type ChangeEvent = z.infer<typeof ChangeEvent>;

/** A non-negative integer id, as a string (SSE ids are strings) or a number. */
export const EventId = z.union([
  z.number().int().nonnegative(),
  z.string().regex(/^\d{1,15}$/, "must be an event id (digits)"),
]);

export const WatchInput = z.object({
  /** Only this agent's events. */
  agent_id: Uuid.nullish(),
  /** Resume after this id (tRPC's httpSubscriptionLink fills it in on reconnect). */
  lastEventId: EventId.nullish(),
});
export type WatchInput = z.infer<typeof WatchInput>;

export function toChangeEvent(row: EventRow): ChangeEvent {
  return {
    id: Number(row.id),
    type: row.type as EventType,
    agent_id: row.agent_id,
    deployment_id: row.deployment_id,
    at: iso(row.created_at),
    data: row.data ?? {},
  };
}

/** ChangeEvent as JSON Schema, for the OpenAPI description of `GET /api/events` (not a bridge route). */
export function changeEventJsonSchema(): Record<string, unknown> {
  const { $schema: _, ...schema } = z.toJSONSchema(ChangeEvent, {
    target: "draft-2020-12",
    unrepresentable: "any",
    metadata: z.registry(),
    reused: "inline",
  }) as Record<string, unknown>;
  return schema;
}
