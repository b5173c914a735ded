import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { canonicalJson, decodeJson, encodeJson } from "../../lib/runner/json";

describe("runner JSON", () => {
  it("keeps NaN, +/-Infinity and -0 through a round trip, where JSON.stringify loses them", () => {
    const value = { a: NaN, b: [Infinity, -Infinity, -0, 0, 1.5, NaN], c: { d: NaN, e: "NaN" }, f: null, g: true };
    const back = decodeJson(encodeJson(value));
    assert.deepStrictEqual(back, value); // deepStrictEqual uses Object.is: NaN equals NaN, -0 differs from 0
    assert.ok(Object.is((back as typeof value).b[2], -0));
    assert.deepStrictEqual(JSON.parse(JSON.stringify(value)).a, null, "what plain JSON would have done");
  });

  it("keeps numbers exactly and the key order of results", () => {
    const value = { z: 0.1 + 0.2, a: 1e-300, m: Number.MAX_SAFE_INTEGER, n: -123.456e7 };
    const text = encodeJson(value);
    assert.deepStrictEqual(decodeJson(text), value);
    assert.deepEqual(Object.keys(decodeJson(text) as object), ["z", "a", "m", "n"]);
  });

  it("writes typed arrays as arrays, dates through toJSON, and leaves out undefined properties", () => {
    const back = decodeJson(encodeJson({ x: new Float32Array([0.5, NaN]), t: new Date(0), u: undefined }));
    assert.deepStrictEqual(back, { x: [0.5, NaN], t: "1970-01-01T00:00:00.000Z" });
  });

  it("canonical JSON sorts keys at every depth", () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [{ y: 1, x: 2 }], c: NaN } }), '{"a":{"c":{"$float":"NaN"},"d":[{"x":2,"y":1}]},"b":1}');
    assert.equal(canonicalJson({ b: 1, a: 2 }), canonicalJson({ a: 2, b: 1 }));
  });

  it("refuses what JSON would lose, naming where it is", () => {
    assert.throws(() => encodeJson({ rows: [{ table: new Map() }] }, "result"), /result\.rows\[0\]\.table: a Map is not plain data/);
    assert.throws(() => encodeJson({ f: () => 1 }), /value\.f: function cannot be stored/);
    assert.throws(() => encodeJson([1, undefined]), /value\[1\]: undefined in an array/);
    assert.throws(() => encodeJson({ n: 10n }), /value\.n: bigint/);
    class Model {
      w = 1;
    }
    assert.throws(() => encodeJson({ model: new Model() }), /value\.model: a Model is not plain data/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assert.throws(() => encodeJson(cyclic), /value\.self: a cycle/);
    assert.throws(() => encodeJson({ $float: "NaN" }), /reserved/);
    assert.throws(() => encodeJson(undefined), /undefined cannot be stored/);
  });

  it("reads plain JSON, and a $float object beside other keys stays an object", () => {
    assert.deepStrictEqual(decodeJson('{"a":[1,null],"b":{"$float":"NaN","c":1},"d":{"$float":"toString"}}'), {
      a: [1, null],
      b: { $float: "NaN", c: 1 },
      d: { $float: "toString" },
    });
  });
});
