import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type LineDisplay, Progress, progressKey, progressLog, timed } from "../lib/progress";

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

describe("progressLog", () => {
  const a1 = "[diagnose-decoder #0 pid 11] no-graph (seed 1): 0.3/15 (2%) 0.7 s, loss 1.254";
  const a2 = "[diagnose-decoder #0 pid 11] no-graph (seed 1): 15/15 (100%) 10.0 s, loss 0.9257, val mse 0.9657";
  const b1 = "[diagnose-decoder #1 pid 12] full-graph (seed 1): 2/15 (13%) 2.8 s, loss 1.079";
  const other = "diagnose: Stage 1 done in 27.6 s; support threshold 0.95 (1.9 edges per unit)";
  it("keys a child's progress line by its job and label, and nothing else", () => {
    assert.equal(progressKey(a1), "[diagnose-decoder #0 pid 11] no-graph (seed 1)");
    assert.equal(progressKey(a2), progressKey(a1));
    assert.notEqual(progressKey(b1), progressKey(a1));
    assert.equal(progressKey(other), null);
    assert.equal(progressKey("fit: 3/15 (20%) 1.0 s"), null, "a line without a job prefix is not a child's");
  });
  it("in a notebook, each job's progress replaces its previous line; other lines are written", () => {
    const written: string[] = [];
    const shown: string[][] = [];
    const open = (): LineDisplay => {
      const lines: string[] = [];
      shown.push(lines);
      return { update: (bundle) => (lines.push(bundle["text/plain"]), true) };
    };
    const log = progressLog((l) => written.push(l), open);
    for (const l of [a1, b1, other, a2]) log(l);
    assert.deepEqual(written, [other]);
    assert.equal(shown.length, 2, "one display per job");
    assert.deepEqual(shown[0], [a1, a2]);
    assert.deepEqual(shown[1], [b1]);
  });
  it("outside a notebook (no display), or when a display fails, every line is written", () => {
    const written: string[] = [];
    const log = progressLog(
      (l) => written.push(l),
      () => undefined,
    );
    for (const l of [a1, other, a2]) log(l);
    assert.deepEqual(written, [a1, other, a2]);
    const failing: string[] = [];
    const logFailing = progressLog(
      (l) => failing.push(l),
      () => ({ update: () => false }),
    );
    logFailing(a1);
    assert.deepEqual(failing, [a1]);
  });
});
