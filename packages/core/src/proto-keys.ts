/**
 * The path (`registration_metadata.a.0.__proto__`) of the first `__proto__`
 * key anywhere in a parsed JSON value, or null. Both transports refuse such
 * keys with a 422 naming this path: JSON.parse keeps `__proto__` as an own
 * key, but any later copy (`Object.assign`, a zod record, a merge) would turn
 * it into the object's prototype, so the key can be neither stored
 * faithfully nor dropped silently. Iterative: the input's depth is the caller's.
 */
export function protoKeyPath(value: unknown): string | null {
  const stack: Array<{ value: unknown; path: string[] }> = [{ value, path: [] }];
  while (stack.length > 0) {
    const { value: v, path } = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], path: [...path, String(i)] });
      continue;
    }
    const keys = Object.keys(v);
    if (keys.includes("__proto__")) return [...path, "__proto__"].join(".");
    for (let i = keys.length - 1; i >= 0; i--) {
      const k = keys[i]!;
      stack.push({ value: (v as Record<string, unknown>)[k], path: [...path, k] });
    }
  }
  return null;
}
