/**
 * Cost check (prints, does not assert a time): CIG + AR-CIG (direct and total) on a panel of
 * 100 units x 8 nodes, 20 origins, H = 7, history 20, with the linear VAR. The tiny GRU decoder
 * (hidden 16) runs too when `DIAGNOSTICS_COST_GRU=1` (10-20 s on 2 cores with wasm, so it is
 * left out of the default test run).
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { initBackend } from "../../lib/backend";
import { tf } from "../../lib/tf";
import type { Forecaster } from "../../lib/core/forecaster";
import { arCig, cig } from "../../lib/diagnostics/influence";
import { linearVar1 } from "../../lib/diagnostics/linear-var";
import { TinyGru, randomSparseVar, simulateVar } from "./helpers";

const CONFIG = { window: { from: 60, to: 100 }, stride: 2, history: 20, horizon: 7 };

function measure(name: string, f: Forecaster): void {
  const A = randomSparseVar(8, 0.3, 1);
  const data = simulateVar([A], 100, 100, 2);
  const before = tf.memory().numTensors;
  const t0 = performance.now();
  const c = cig(f, data, CONFIG);
  const t1 = performance.now();
  const r = arCig(f, data, CONFIG);
  const t2 = performance.now();
  assert.equal(c.origins.length, 20);
  assert.equal(c.units.length, 100);
  assert.ok(r.direct && r.total);
  assert.equal(tf.memory().numTensors, before, "no tensor leaked");
  console.log(
    `cost [${tf.getBackend()}] ${name}: 100 units x 8 nodes, 20 origins, H = 7, history 20: ` +
      `CIG ${((t1 - t0) / 1000).toFixed(2)} s + AR-CIG (direct + total) ${((t2 - t1) / 1000).toFixed(2)} s = ${((t2 - t0) / 1000).toFixed(2)} s`,
  );
}

describe("diagnostics cost", () => {
  before(async () => {
    await initBackend(undefined, null);
  });

  it("CIG + AR-CIG at 100 x 8, 20 origins, H = 7 with the linear VAR (prints the time)", () => {
    measure("linear VAR", linearVar1(randomSparseVar(8, 0.3, 1)));
  });

  it("the same with a tiny GRU decoder, hidden 16 (DIAGNOSTICS_COST_GRU=1)", { skip: process.env.DIAGNOSTICS_COST_GRU !== "1" }, () => {
    const gru = new TinyGru(8, 16, 1);
    try {
      measure("tiny GRU (hidden 16)", gru);
    } finally {
      gru.dispose();
    }
  });
});
