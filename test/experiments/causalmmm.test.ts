/** CausalMMM on its shipped simulation: the official unit split, one seed in process and as a cached runner job. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { initBackend } from "../../lib/backend";
import { loadCausalMMMSim } from "../../lib/data/causalmmm";
import { type ShippedConfig, shippedCausalMMMSeed, shippedSplit } from "../../lib/experiments/causalmmm";
import { runShipped } from "../../lib/experiments/jobs";
import { tf } from "../../lib/tf";
import { linearPanel } from "./fixtures";

before(async () => {
  await initBackend(undefined, null);
});

const root = mkdtempSync(join(tmpdir(), "graph-mmm-shipped-"));
after(() => rmSync(root, { recursive: true, force: true }));

/** A tiny run: 8 training units, 3 held out, 2 epochs of a small model. */
const tiny: Partial<ShippedConfig> = {
  trainUnits: 8,
  valUnits: 3,
  experiment: { model: { hidden: 8, encoderHidden: 8 }, fit: { epochs: 2, learningRate: 2e-3, label: null }, batchSize: 4 },
};

describe("shippedSplit", () => {
  it("cuts the seeded 80/20 unit split to its first units, disjoint, the same for the same seed", () => {
    const s = shippedSplit({ units: 50 }, { trainUnits: 30, valUnits: 6, splitSeed: 100 });
    assert.equal(s.train.length, 30);
    assert.equal(s.test.length, 6);
    assert.deepEqual(s.validation, []);
    assert.equal(new Set([...s.train, ...s.test]).size, 36, "no unit on both sides");
    assert.ok([...s.train, ...s.test].every((u) => Number.isInteger(u) && u >= 0 && u < 50));
    assert.deepEqual(shippedSplit({ units: 50 }, { trainUnits: 30, valUnits: 6, splitSeed: 100 }), s);
    assert.notDeepEqual(shippedSplit({ units: 50 }, { trainUnits: 30, valUnits: 6, splitSeed: 101 }).train, s.train);
    // more units than a side holds: the whole side (40 and 10 of 50)
    const all = shippedSplit({ units: 50 }, { trainUnits: 1000, valUnits: 1000 });
    assert.deepEqual([all.train.length, all.test.length], [40, 10]);
  });
});

describe("shippedCausalMMMSeed", () => {
  const panel = linearPanel(3, { units: 12, steps: 40 });
  const config: Partial<ShippedConfig> = { ...tiny, mse: { window: { from: 30, to: 40 }, history: 30, horizons: [1, 3] } };

  it("scores every epoch on the held-out units, forecasts them, is repeatable for a seed and frees its tensors", async () => {
    const tensors = tf.memory().numTensors;
    const a = await shippedCausalMMMSeed(panel, 1, config);
    assert.equal(tf.memory().numTensors, tensors, "no tensor left behind");
    const held = shippedSplit(panel, config).test;
    assert.equal(a.seed, 1);
    assert.equal(a.history.length, 2);
    for (const h of a.history) for (const k of ["auroc", "nauprc", "mse"]) assert.ok(Number.isFinite(h.val[k]), `epoch ${h.epoch}: val.${k}`);
    assert.deepEqual(a.evidence.units, held);
    assert.equal(a.evidence.probs.length, held.length);
    assert.ok(a.evidence.probs.flat(2).every((p) => p >= 0 && p <= 1));
    assert.deepEqual(a.forecast.units, held);
    assert.deepEqual(a.forecast.horizons.map((h) => h.horizon), [1, 3]);
    assert.ok(a.forecast.horizons.every((h) => Number.isFinite(h.target) && h.target > 0));
    const again = await shippedCausalMMMSeed(panel, 1, config);
    assert.deepEqual(again.history.map((h) => h.val), a.history.map((h) => h.val), "the same seed gives the same numbers");
    const other = await shippedCausalMMMSeed(panel, 2, config);
    assert.notDeepEqual(other.history.map((h) => h.val.mse), a.history.map((h) => h.val.mse), "another seed, another model");
  });
});

describe("runShipped", () => {
  it("returns per seed, from worker processes, what the seed gives in process on the shipped data", async () => {
    const [job] = await runShipped([2], tiny, { workers: 1, cacheDir: join(root, "cache"), progress: false, log: () => {} });
    const local = await shippedCausalMMMSeed(loadCausalMMMSim(), 2, tiny);
    assert.equal(job.seed, 2);
    assert.deepEqual(job.history.map((h) => h.val), local.history.map((h) => h.val));
    assert.deepEqual(job.evidence, local.evidence);
    assert.deepEqual(job.forecast, local.forecast);
  });
});
