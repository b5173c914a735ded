/**
 * JSON for cached results and cache keys, without JSON's silent losses: metrics are often NaN
 * (an undefined AUROC, a failed seed), and a cached result must read back as the value that was
 * computed. {@link encodeJson} lists what is written how.
 */

/** Plain JSON data, as read back by {@link decodeJson}. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

const FLOAT_TAG = "$float";

function encodeNumber(n: number): string {
  if (Number.isNaN(n)) return `{"${FLOAT_TAG}":"NaN"}`;
  if (n === Infinity) return `{"${FLOAT_TAG}":"Infinity"}`;
  if (n === -Infinity) return `{"${FLOAT_TAG}":"-Infinity"}`;
  if (Object.is(n, -0)) return `{"${FLOAT_TAG}":"-0"}`;
  return JSON.stringify(n);
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  const name = (Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null)?.constructor?.name;
  return name ? `a ${name}` : "an object";
}

function encode(value: unknown, path: string, sortKeys: boolean, seen: Set<object>): string {
  switch (typeof value) {
    case "number":
      return encodeNumber(value);
    case "string":
    case "boolean":
      return JSON.stringify(value);
    case "object":
      break;
    default:
      throw new TypeError(`${path}: ${describe(value)} cannot be stored as JSON`);
  }
  if (value === null) return "null";
  const obj = value as object;
  if (seen.has(obj)) throw new TypeError(`${path}: a cycle cannot be stored as JSON`);
  if (typeof (obj as { toJSON?: unknown }).toJSON === "function") {
    return encode((obj as { toJSON(): unknown }).toJSON(), path, sortKeys, seen);
  }
  seen.add(obj);
  try {
    if (ArrayBuffer.isView(obj) && !(obj instanceof DataView)) {
      if (obj instanceof BigInt64Array || obj instanceof BigUint64Array) throw new TypeError(`${path}: ${describe(obj)} cannot be stored as JSON`);
      return `[${Array.from(obj as unknown as ArrayLike<number>, encodeNumber).join(",")}]`;
    }
    if (Array.isArray(obj)) {
      return `[${obj
        .map((v, i) => {
          if (v === undefined) throw new TypeError(`${path}[${i}]: undefined in an array cannot be stored as JSON`);
          return encode(v, `${path}[${i}]`, sortKeys, seen);
        })
        .join(",")}]`;
    }
    const proto = Object.getPrototypeOf(obj);
    if (proto !== Object.prototype && proto !== null) throw new TypeError(`${path}: ${describe(obj)} is not plain data and cannot be stored as JSON`);
    let keys = Object.keys(obj).filter((k) => (obj as Record<string, unknown>)[k] !== undefined);
    if (keys.length === 1 && keys[0] === FLOAT_TAG) {
      throw new TypeError(`${path}: an object whose only key is "${FLOAT_TAG}" is reserved for non-finite numbers`);
    }
    if (sortKeys) keys = keys.sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${encode((obj as Record<string, unknown>)[k], `${path}.${k}`, sortKeys, seen)}`).join(",")}}`;
  } finally {
    seen.delete(obj);
  }
}

/**
 * JSON text of `value` with NaN, +/-Infinity and -0 preserved; `path` names the value in errors.
 *
 * `JSON.stringify` turns NaN and +/-Infinity into `null`, -0 into 0, drops functions and turns
 * a `Map` into `{}`. Metrics are often NaN (an undefined AUROC, a failed seed), so here:
 *
 * - non-finite numbers and -0 are written as `{"$float": "NaN" | "Infinity" | "-Infinity" | "-0"}`
 *   and read back as numbers (an object whose only key is `$float` is therefore reserved);
 * - typed arrays are written as plain arrays (read back as `number[]`);
 * - objects with a `toJSON` method (Date) are written through it, as JSON does;
 * - properties whose value is `undefined` are left out, as JSON does;
 * - anything else that is not plain data (functions, symbols, bigints, Map, Set, class
 *   instances such as tensors or models, `undefined` in an array, cycles) is an error that names
 *   where in the value it sits, e.g. `result.rows[3].model`.
 */
export function encodeJson(value: unknown, path = "value"): string {
  if (value === undefined) throw new TypeError(`${path}: undefined cannot be stored as JSON`);
  return encode(value, path, false, new Set());
}

/** Like {@link encodeJson} with object keys sorted: equal data gives equal text whatever the key order. */
export function canonicalJson(value: unknown, path = "value"): string {
  if (value === undefined) throw new TypeError(`${path}: undefined cannot be stored as JSON`);
  return encode(value, path, true, new Set());
}

const FLOATS: Record<string, number> = { NaN: NaN, Infinity: Infinity, "-Infinity": -Infinity, "-0": -0 };

/** Parses text written by {@link encodeJson} (plain JSON too), restoring the tagged numbers. */
export function decodeJson<T = JsonValue>(text: string): T {
  return JSON.parse(text, (_key, v: unknown) => {
    if (v !== null && typeof v === "object" && !Array.isArray(v)) {
      const keys = Object.keys(v);
      if (keys.length === 1 && keys[0] === FLOAT_TAG) {
        const tag = (v as Record<string, unknown>)[FLOAT_TAG];
        if (typeof tag === "string" && Object.hasOwn(FLOATS, tag)) return FLOATS[tag];
      }
    }
    return v;
  }) as T;
}
