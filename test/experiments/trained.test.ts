import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { initBackend } from "../../lib/backend";
import { generateSparseTarget } from "../../lib/data/simulate";
import { trainStage1 } from "../../lib/experiments/dice";
import { type TimePanel, prepareTimePanel } from "../../lib/experiments/protocol";
import { TRAINED_KIND, panelFingerprint, trainOnce } from "../../lib/experiments/trained";
import { createDecoder } from "../../lib/experiments/variants";
import { GraphSafeDecoder } from "../../lib/models/graph-safe";
import { CACHE_ENV } from "../../lib/runner/cache";
import { SHARE_TRAINING_ENV } from "../../lib/study";
import type { FitResult } from "../../lib/train/fit";

const values = (m: { params: { names(): string[]; get(n: string): { dataSync(): ArrayLike<number> } } }) =>
  Object.fromEntries(m.params.names().map((n) => [n, Array.from(m.params.get(n).dataSync())]));

const entries = (dir: string) => {
  try {
    return readdirSync(join(dir, TRAINED_KIND)).filter((f) => f.endsWith(".json"));
  } catch {
    return [];
  }
};

describe("shared trainings", () => {
  let dir: string;
  let tp: TimePanel;
  const saved = { share: process.env[SHARE_TRAINING_ENV], cache: process.env[CACHE_ENV] };
  before(async () => {
    await initBackend("wasm", null);
    dir = mkdtempSync(join(tmpdir(), "trained-"));
    process.env[CACHE_ENV] = dir;
    tp = prepareTimePanel(generateSparseTarget({ units: 6, steps: 60, seed: 3 }).panel);
  });
  after(() => {
    for (const [k, v] of [
      [SHARE_TRAINING_ENV, saved.share],
      [CACHE_ENV, saved.cache],
    ] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  /** A small graph-safe decoder whose training only counts calls and moves one weight. */
  const model = (seed: number) => new GraphSafeDecoder({ nodes: tp.panel.nodes, target: 0, contextDim: 0, hidden: 4, message: 2, embed: 2, seed });
  const fakeFit = (m: GraphSafeDecoder, counter: { n: number }) => async (): Promise<FitResult> => {
    counter.n++;
    const name = m.params.names()[0];
    const v = m.params.get(name);
    v.assign(v.add(0.125 * counter.n));
    return { status: "completed", message: "done", history: [], bestEpoch: 0, best: NaN, epochsRun: 1, seconds: 0.5 };
  };

  it("with sharing on, the same training is restored bit for bit; another seed, model or data trains anew; the label does not count", async () => {
    process.env[SHARE_TRAINING_ENV] = "1";
    const counter = { n: 0 };
    const a = model(1);
    const fitA = await trainOnce(a, { panel: panelFingerprint(tp) }, { epochs: 3, label: "first" }, fakeFit(a, counter));
    const b = model(1);
    const fitB = await trainOnce(b, { panel: panelFingerprint(tp) }, { epochs: 3, label: "second" }, fakeFit(b, counter));
    assert.equal(counter.n, 1, "the second training was restored");
    assert.deepEqual(values(b), values(a));
    assert.deepEqual(fitB, fitA);
    assert.ok(Number.isNaN(fitB.best), "NaN survives the cache");
    const c = model(2);
    await trainOnce(c, { panel: panelFingerprint(tp) }, { epochs: 3 }, fakeFit(c, counter));
    const d = model(1);
    await trainOnce(d, { panel: "another panel" }, { epochs: 3 }, fakeFit(d, counter));
    const e = model(1);
    await trainOnce(e, { panel: panelFingerprint(tp) }, { epochs: 4 }, fakeFit(e, counter));
    assert.equal(counter.n, 4, "seed, data and fit configuration are part of the key");
    const f = model(1);
    await trainOnce(f, { panel: panelFingerprint(tp) }, { epochs: 3, checkpointDir: join(dir, "ckpt") }, fakeFit(f, counter));
    assert.equal(counter.n, 5, "a training with checkpoints is never shared");
    [a, b, c, d, e, f].forEach((m) => m.dispose());
  });

  it("an entry that does not fit the model (a damaged file) is trained anew and replaced", async () => {
    process.env[SHARE_TRAINING_ENV] = "1";
    // a folder of its own, so that every entry in it is this training's
    const own = mkdtempSync(join(dir, "damaged-"));
    process.env[CACHE_ENV] = own;
    const counter = { n: 0 };
    const key = { panel: "damaged" };
    const a = model(7);
    await trainOnce(a, key, { epochs: 1 }, fakeFit(a, counter));
    // every entry of this kind is damaged: the next read of each must retrain
    for (const f of entries(own)) writeFileSync(join(own, TRAINED_KIND, f), "{ not json");
    const b = model(7);
    await trainOnce(b, key, { epochs: 1 }, fakeFit(b, counter));
    assert.equal(counter.n, 2);
    const c = model(7);
    await trainOnce(c, key, { epochs: 1 }, fakeFit(c, counter));
    assert.equal(counter.n, 2, "the replaced entry is read again");
    assert.deepEqual(values(c), values(b));
    // a readable entry whose first parameter has another shape is not assigned either
    for (const f of entries(own)) {
      const path = join(own, TRAINED_KIND, f);
      const entry = JSON.parse(readFileSync(path, "utf8"));
      const first = Object.keys(entry.result.params)[0];
      entry.result.params[first].shape = [1];
      writeFileSync(path, JSON.stringify(entry));
    }
    const d = model(7);
    const untouched = values(d);
    await trainOnce(d, key, { epochs: 1 }, fakeFit(d, counter));
    assert.equal(counter.n, 3);
    assert.notDeepEqual(values(d), untouched);
    [a, b, c, d].forEach((m) => m.dispose());
    process.env[CACHE_ENV] = dir;
  });

  it("with sharing off, every training runs and nothing is stored", async () => {
    delete process.env[SHARE_TRAINING_ENV];
    const before = entries(dir).length;
    const counter = { n: 0 };
    const a = model(9);
    await trainOnce(a, { panel: "off" }, { epochs: 1 }, fakeFit(a, counter));
    const b = model(9);
    await trainOnce(b, { panel: "off" }, { epochs: 1 }, fakeFit(b, counter));
    assert.equal(counter.n, 2);
    assert.equal(entries(dir).length, before);
    [a, b].forEach((m) => m.dispose());
  });

  it("DICE Stage 1 and a DICE-hard decoder on it: the shared run equals the trained one bit for bit", async () => {
    const stage1 = { fit: { epochs: 3, label: null }, batchSize: 4 };
    const decoder = { fit: { epochs: 2, label: null } };
    const run = async () => {
      const s1 = await trainStage1(tp, stage1);
      const hard = await createDecoder(tp, "dice-hard", decoder, { seed: 4, stage1: s1 });
      const out = { probs: s1.probs, history: s1.fit.history, stage1: values(s1.model), decoder: values(hard.model), decoderFit: hard.fit };
      hard.dispose();
      s1.model.dispose();
      return out;
    };
    delete process.env[SHARE_TRAINING_ENV];
    const trained = await run();
    process.env[SHARE_TRAINING_ENV] = "1";
    const before = entries(dir).length;
    const first = await run();
    assert.equal(entries(dir).length, before + 2, "one entry for Stage 1, one for the decoder");
    const shared = await run();
    assert.equal(entries(dir).length, before + 2);
    // wall-clock seconds differ between two trainings, nothing else may
    const untimed = (x: unknown) => JSON.parse(JSON.stringify(x, (k, v) => (k === "seconds" ? undefined : v)));
    assert.deepEqual(untimed(first), untimed(trained), "sharing on, first time: trained as without sharing");
    assert.deepEqual(shared, first, "restored: the same weights, probabilities and histories (the stored seconds too)");
  });
});
