/** The shared protocol: time panels standardised on their training window. */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { initBackend } from "../../lib/backend";
import { splitTime } from "../../lib/data/panel";
import { unitGraphs } from "../../lib/diagnostics/ranking";
import { prepareTimePanel } from "../../lib/experiments/protocol";
import { linearPanel } from "./fixtures";

before(async () => {
  await initBackend(undefined, null);
});

// ---------------------------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------------------------

describe("prepareTimePanel", () => {
  it("standardises by the training window's statistics (pooled over units) and splits in time", () => {
    const raw = linearPanel(1, { units: 4, steps: 60 });
    const tp = prepareTimePanel(raw, { train: 0.6, validation: 0.2, test: 0.2 });
    assert.deepEqual([tp.split.train.from, tp.split.train.to, tp.split.validation.to, tp.split.test.to], [0, 36, 48, 60]);
    assert.deepEqual(tp.truth, unitGraphs(raw));
    const { panel } = tp;
    for (let i = 0; i < panel.nodes; i++) {
      const train: number[] = [];
      const rawTrain: number[] = [];
      const rawAll: number[] = [];
      for (let u = 0; u < panel.units; u++)
        for (let t = 0; t < panel.steps; t++) {
          const k = (u * panel.steps + t) * panel.nodes + i;
          rawAll.push(raw.values[k]);
          if (t < 36) {
            train.push(panel.values[k]);
            rawTrain.push(raw.values[k]);
          }
        }
      const mean = train.reduce((a, b) => a + b, 0) / train.length;
      const sd = Math.sqrt(train.reduce((a, b) => a + (b - mean) ** 2, 0) / train.length);
      assert.ok(Math.abs(mean) < 1e-4, `node ${i}: training mean ${mean}`);
      assert.ok(Math.abs(sd - 1) < 2e-2, `node ${i}: training SD ${sd}`);
      // every value, later windows included, is (raw - training mean) / one scale per node
      const rawMean = rawTrain.reduce((a, b) => a + b, 0) / rawTrain.length;
      const rawSd = Math.sqrt(rawTrain.reduce((a, b) => a + (b - rawMean) ** 2, 0) / rawTrain.length);
      for (let k = i; k < raw.values.length; k += panel.nodes) {
        const expected = (raw.values[k] - rawMean) / rawSd;
        assert.ok(Math.abs(panel.values[k] - expected) < 2e-2 * Math.max(1, Math.abs(expected)), `value ${k}: ${panel.values[k]} vs ${expected}`);
      }
      // not the whole series' statistics: the later windows are not standardised on their own
      const allMean = rawAll.reduce((a, b) => a + b, 0) / rawAll.length;
      assert.ok(Math.abs(allMean - rawMean) > 1e-3 * rawSd, "the test cannot tell the training mean from the overall mean");
    }
    assert.equal(prepareTimePanel({ ...raw, truth: undefined }).truth, null);
  });
});
