import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Progress, timed } from "../lib/progress";

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

describe("Progress.line", () => {
  it("shows a part-way epoch to one decimal and whole steps as integers", () => {
    const p = new Progress("fit", 15);
    assert.match(p.line(1 / 3, { loss: 0.5 }), /^fit: 0\.3\/15 \(2%\) [0-9.]+ s, loss 0\.5000$/);
    assert.match(p.line(7), /^fit: 7\/15 \(46%\) /);
    assert.match(p.line(14.96), /^fit: 14\.9\/15 \(99%\) /, "work under way never shows as complete");
  });
});
