import assert from "node:assert/strict";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { initBackend } from "../../lib/backend";
import { type Panel, targetIndex } from "../../lib/data/panel";
import { generateVarDag } from "../../lib/data/simulate";
import { scoreGraphs, unitGraphs } from "../../lib/diagnostics/ranking";
import { learnedGraphs, validationMse } from "../../lib/experiments/causalmmm";
import { CausalMMM } from "../../lib/models/causalmmm";
import type { Rng } from "../../lib/rng";
import { tf } from "../../lib/tf";
import { shuffledUnitBatches } from "../../lib/train/batches";
import { hasCheckpoint } from "../../lib/train/checkpoint";
import { type FitConfig, type FitData, fit } from "../../lib/train/fit";
import type { ArrayBatch } from "../../lib/core/trainable";
import { tempDir } from "../data/helpers";

// A small CausalMMM on a small linear VAR-DAG panel: the loop is what is tested here, not the
// model's skill, so everything is as small as still exercises every path.
let panel: Panel;
const TRAIN = [0, 1, 2, 3, 4, 5, 6, 7];
const VAL = [8, 9, 10, 11];

function newModel(seed: number): CausalMMM {
  const shape = { nodes: panel.nodes, target: targetIndex(panel), contextDim: 0, encoderSteps: panel.steps };
  return new CausalMMM({ ...shape, hidden: 8, encoderHidden: 8, horizon: 5, seed });
}

const batches = (_epoch: number, rng: Rng): ArrayBatch[] => shuffledUnitBatches(panel, { units: TRAIN, batchSize: 2, rng });
const QUIET: Partial<FitConfig> = { label: null, learningRate: 5e-3, seed: 4, workers: 1 };

function weightsOf(model: CausalMMM): Map<string, Float32Array> {
  return new Map(model.params.names().map((n) => [n, model.params.get(n).dataSync() as Float32Array]));
}

function assertSameWeights(actual: Map<string, Float32Array>, expected: Map<string, Float32Array>, what: string): void {
  assert.deepEqual([...actual.keys()], [...expected.keys()]);
  for (const [n, v] of expected) assert.deepEqual(actual.get(n), v, `${what}: parameter ${n}`);
}

function differs(a: Map<string, Float32Array>, b: Map<string, Float32Array>): boolean {
  for (const [n, v] of a) {
    const w = b.get(n)!;
    for (let k = 0; k < v.length; k++) if (v[k] !== w[k]) return true;
  }
  return false;
}

const dirs: string[] = [];
function freshDir(): string {
  const d = tempDir("graph-mmm-fit-");
  dirs.push(d);
  return d;
}

before(async () => {
  await initBackend(undefined, null);
  panel = generateVarDag({ units: 12, steps: 24, graphs: 2, channels: 2, intermediates: 1, contextDim: 0, linear: true, seed: 5 }).panel;
});
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("fit: tensor memory", () => {
  /** Runs `epochs` epochs, counting the live tensors in every validation call. */
  async function countTensors(
    config: Partial<FitConfig>,
    epochs: number,
  ): Promise<{ counts: number[]; before: number; after: number; disposed: number; start: number }> {
    const truth = unitGraphs(panel);
    const start = tf.memory().numTensors;
    const model = newModel(1);
    const before = tf.memory().numTensors;
    const counts: number[] = [];
    const result = await fit(
      model,
      {
        batches,
        validate: () => {
          const auroc = scoreGraphs(
            learnedGraphs(model, panel, VAL),
            VAL.map((u) => truth[u]),
          ).mean.auroc;
          const mse = validationMse(model, panel, VAL);
          counts.push(tf.memory().numTensors);
          return { auroc, mse };
        },
      },
      { ...QUIET, ...config, epochs },
    );
    assert.equal(result.status, "completed");
    const after = tf.memory().numTensors;
    model.dispose();
    return { counts, before, after, disposed: tf.memory().numTensors, start };
  }

  it("plain training: the tensor count is the same after every epoch, and after the fit as before it", async () => {
    const r = await countTensors({}, 3);
    assert.equal(r.counts.length, 3);
    assert.equal(r.counts[1], r.counts[0], `tensors after epochs 0, 1, 2: ${r.counts.join(", ")}`);
    assert.equal(r.counts[2], r.counts[1], `tensors after epochs 0, 1, 2: ${r.counts.join(", ")}`);
    assert.equal(r.after, r.before, "tensors after the fit vs before it");
    assert.equal(r.disposed, r.start, "a disposed model leaves nothing behind");
  });

  it("with checkpoints and best-epoch tracking: the same from epoch 1 on (the best-epoch copy appears after epoch 0)", async () => {
    const r = await countTensors({ monitor: "mse", mode: "min", restoreBest: true, checkpointDir: freshDir() }, 4);
    assert.equal(r.counts.length, 4);
    assert.equal(r.counts[2], r.counts[1], `tensors after epochs 0..3: ${r.counts.join(", ")}`);
    assert.equal(r.counts[3], r.counts[2], `tensors after epochs 0..3: ${r.counts.join(", ")}`);
    assert.equal(r.after, r.before, "tensors after the fit vs before it");
    assert.equal(r.disposed, r.start, "a disposed model leaves nothing behind");
  });
});

describe("fit: NaN guard", () => {
  it("stops at a batch with a NaN, says where, and restores the weights of the last finished epoch", async () => {
    const reference = newModel(2);
    await fit(reference, { batches }, { ...QUIET, epochs: 1 });
    const expected = weightsOf(reference);
    reference.dispose();

    const model = newModel(2);
    const start = tf.memory().numTensors;
    const dir = freshDir();
    const poisoned = (epoch: number, rng: Rng) => {
      const bs = batches(epoch, rng);
      if (epoch === 1) bs[2].x.data[7] = NaN;
      return bs;
    };
    const result = await fit(model, { batches: poisoned }, { ...QUIET, epochs: 3, checkpointDir: dir });
    assert.equal(result.status, "diverged");
    assert.match(result.message, /training diverged at epoch 1, batch 2 \(total NaN/);
    assert.match(result.message, /weights restored to the end of epoch 0/);
    assert.ok(result.message.includes(join(dir, "last")), `message should say where the last good checkpoint is: ${result.message}`);
    assert.equal(result.history.length, 1);
    assertSameWeights(weightsOf(model), expected, "restored weights");
    assert.equal(tf.memory().numTensors, start, "tensors after a diverged fit");
    model.dispose();
  });

  it("stops when the weights blow up (learning rate 1e30) and puts the initial weights back", async () => {
    const initial = newModel(3);
    const expected = weightsOf(initial);
    initial.dispose();
    const model = newModel(3);
    const result = await fit(model, { batches }, { ...QUIET, epochs: 2, learningRate: 1e30 });
    assert.equal(result.status, "diverged");
    assert.match(result.message, /training diverged at epoch 0, batch [1-9]/);
    assert.match(result.message, /weights restored to their initial values/);
    assert.equal(result.history.length, 0);
    assertSameWeights(weightsOf(model), expected, "restored weights");
    model.dispose();
  });
});

describe("fit: resuming from a checkpoint", () => {
  it("continues exactly like the uninterrupted run (same weights, same history)", async () => {
    // Two batches per epoch and a resume after epoch 1, i.e. after 2 Adam steps: a step count at
    // which tfjs's own Adam.setWeights (beta2^3 by one pow) differs in float32 from the
    // uninterrupted run's step-by-step products, which fit.ts replays.
    const config = { ...QUIET, learningRate: 1e-2, monitor: "mse", mode: "min" as const, restoreBest: false };
    const truthless = (model: CausalMMM): FitData => ({
      batches: (_epoch, rng) => shuffledUnitBatches(panel, { units: TRAIN, batchSize: 4, rng }),
      validate: () => ({ mse: validationMse(model, panel, VAL) }),
    });

    const whole = newModel(4);
    const full = await fit(whole, truthless(whole), { ...config, epochs: 3, checkpointDir: freshDir() });

    const dir = freshDir();
    const first = newModel(4);
    const part = await fit(first, truthless(first), { ...config, epochs: 1, checkpointDir: dir });
    assert.equal(part.epochsRun, 1);
    assert.ok(hasCheckpoint(join(dir, "last")) && existsSync(join(dir, "best")));
    assert.ok(differs(weightsOf(first), weightsOf(whole)), "one epoch and three should not end at the same weights");
    first.dispose();

    // Another initialisation, so that only the checkpoint can make it match.
    const resumed = newModel(77);
    const start = tf.memory().numTensors;
    const rest = await fit(resumed, truthless(resumed), { ...config, epochs: 3, checkpointDir: dir, resume: true });
    assert.equal(tf.memory().numTensors, start, "tensors after a resumed fit");
    assert.equal(rest.epochsRun, 2);
    assert.equal(rest.history.length, 3);
    const strip = (h: typeof full.history) => h.map(({ seconds: _s, ...r }) => r);
    assert.deepEqual(strip(rest.history), strip(full.history));
    assert.equal(rest.bestEpoch, full.bestEpoch);
    assert.equal(rest.best, full.best);
    assertSameWeights(weightsOf(resumed), weightsOf(whole), "resumed vs uninterrupted");
    // Nothing left to do: resuming a finished run trains no further epoch.
    const done = await fit(resumed, truthless(resumed), { ...config, epochs: 3, checkpointDir: dir, resume: true });
    assert.equal(done.epochsRun, 0);
    assertSameWeights(weightsOf(resumed), weightsOf(whole), "after a no-op resume");
    whole.dispose();
    resumed.dispose();
  });
});
