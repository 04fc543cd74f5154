import type { Json } from "./helpers.ts";

/** A minimal text/event-stream reader over fetch, for tests (no reconnects: the tests drive those). */
export interface SseMessage {
  id: string | null;
  event: string;
  data: Json;
}

export interface SseStream {
  status: number;
  headers: Headers;
  /** The body of a non-200 answer. */
  body: Json;
  /** The next message; null when `timeoutMs` passes first or the stream ended. */
  next(timeoutMs?: number): Promise<SseMessage | null>;
  /** Messages until `count` are read or `timeoutMs` passes. */
  take(count: number, timeoutMs?: number): Promise<SseMessage[]>;
  /** Comments (keep-alives) seen so far. */
  comments: number;
  ended: boolean;
  close(): void;
}

export async function openSse(
  url: string,
  opts: { token?: string | null; lastEventId?: string } = {},
): Promise<SseStream> {
  const abort = new AbortController();
  const headers: Record<string, string> = { accept: "text/event-stream" };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.lastEventId) headers["last-event-id"] = opts.lastEventId;
  const res = await fetch(url, { headers, signal: abort.signal });
  const queue: SseMessage[] = [];
  const waiters: Array<() => void> = [];
  const stream: SseStream = {
    status: res.status,
    headers: res.headers,
    body: undefined,
    comments: 0,
    ended: false,
    async next(timeoutMs = 5_000) {
      if (queue.length) return queue.shift()!;
      if (stream.ended) return null;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      return queue.shift() ?? null;
    },
    async take(count, timeoutMs = 10_000) {
      const out: SseMessage[] = [];
      const deadline = Date.now() + timeoutMs;
      while (out.length < count) {
        const left = deadline - Date.now();
        if (left <= 0) break;
        const m = await stream.next(left);
        if (!m) {
          if (stream.ended) break;
          continue;
        }
        out.push(m);
      }
      return out;
    },
    close: () => abort.abort(),
  };
  if (res.status !== 200) {
    const text = await res.text();
    try {
      stream.body = JSON.parse(text);
    } catch {
      stream.body = text;
    }
    stream.ended = true;
    return stream;
  }
  const wake = () => {
    for (const w of waiters.splice(0)) w();
  };
  void (async () => {
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let cut: number;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          let id: string | null = null;
          let event = "message";
          const data: string[] = [];
          let isComment = true;
          for (const line of block.split("\n")) {
            if (line.startsWith(":")) continue;
            isComment = false;
            const [field, ...rest] = line.split(":");
            const value = rest.join(":").replace(/^ /, "");
            if (field === "id") id = value;
            else if (field === "event") event = value;
            else if (field === "data") data.push(value);
          }
          if (isComment) {
            stream.comments++;
            continue;
          }
          if (data.length === 0) continue; // e.g. `retry:` only
          const text = data.join("\n");
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // keep the text
          }
          queue.push({ id, event, data: parsed });
          wake();
        }
      }
    } catch {
      // aborted or reset
    } finally {
      stream.ended = true;
      wake();
    }
  })();
  return stream;
}
