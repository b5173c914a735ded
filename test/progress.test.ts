import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { timed } from "../lib/progress";

describe("timed", () => {
  it("returns the function's value and the milliseconds it took", () => {
    const [value, ms] = timed(() => {
      const end = performance.now() + 20;
      while (performance.now() < end);
      return 42;
    });
    assert.equal(value, 42);
    assert.ok(ms >= 20 && ms < 5000, `${ms} ms`);
  });
});
