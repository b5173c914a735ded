import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { finalAcrossSeeds, finalWindow, formatMeanSd, meanSd, meanSdTable, groupValues } from "../../lib/diagnostics/stability";

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

describe("stability", () => {
  it("meanSd: sample SD by default, population SD with ddof 0, NaN left out and counted", () => {
    const s = meanSd([1, 2, 3, 4]);
    close(s.mean, 2.5, 1e-15, "mean");
    close(s.sd, Math.sqrt(5 / 3), 1e-15, "sample sd");
    close(meanSd([1, 2, 3, 4], 0).sd, Math.sqrt(5 / 4), 1e-15, "population sd");
    const t = meanSd([1, NaN, 3]);
    assert.equal(t.n, 2);
    assert.equal(t.skipped, 1);
    assert.equal(t.mean, 2);
    const one = meanSd([0.5]);
    assert.equal(one.mean, 0.5);
    assert.ok(Number.isNaN(one.sd));
    assert.match(one.reason ?? "", /more than 1/);
    assert.match(meanSd([]).reason ?? "", /no finite value/);
  });

  it("Final-20 uses the last 20 epochs of the history", () => {
    // 30 epochs: 0.5 for the first 10, then 0.7 and 0.9 alternating.
    const h = [...new Array<number>(10).fill(0.5), ...Array.from({ length: 20 }, (_, k) => (k % 2 ? 0.9 : 0.7))];
    const f = finalWindow(h);
    assert.deepEqual(f.epochs, { from: 10, to: 30 });
    assert.equal(f.short, false);
    close(f.mean, 0.8, 1e-12, "mean");
    close(f.sd, Math.sqrt((20 * 0.01) / 19), 1e-12, "sd");
    const short = finalWindow([0.6, 0.8]);
    assert.equal(short.short, true);
    assert.deepEqual(short.epochs, { from: 0, to: 2 });
    close(short.mean, 0.7, 1e-12, "short mean");
    assert.equal(finalWindow(h, { lastEpochs: 1 }).mean, 0.9);
    assert.throws(() => finalWindow(h, { lastEpochs: 0 }), /lastEpochs/);
  });

  it("across seeds: mean +/- SD of the per-seed Final-20 means, and the mean within-run SD", () => {
    const seeds = [0.6, 0.7, 0.8, 0.9, 1.0].map((m) => Array.from({ length: 25 }, (_, k) => m + (k % 2 ? 0.01 : -0.01)));
    const r = finalAcrossSeeds(seeds);
    assert.equal(r.perSeed.length, 5);
    close(r.acrossSeeds.mean, 0.8, 1e-12, "mean over seeds");
    close(r.acrossSeeds.sd, Math.sqrt(0.025), 1e-12, "sd over seeds");
    close(r.meanWithinSd, Math.sqrt((20 * 0.0001) / 19), 1e-12, "within-run sd");
  });

  it("formats 0.807 +/- 0.129", () => {
    assert.equal(formatMeanSd({ mean: 0.80712, sd: 0.12865 }), "0.807 +/- 0.129");
    assert.equal(formatMeanSd({ mean: -0.044, sd: 0.006 }), "-0.044 +/- 0.006");
    assert.equal(formatMeanSd({ mean: 0.5, sd: NaN }, 2), "0.50 +/- nan");
  });

  it("builds an arquero table of summaries for notebooks", () => {
    const t = meanSdTable(
      {
        oracle: { nauprc: [0.7, 0.8, 0.9], mse7: [0.004, 0.004, 0.004] },
        learned: { nauprc: { mean: -0.044, sd: 0.006, n: 5, skipped: 0 } },
      },
      { numeric: true },
    );
    assert.equal(t.numRows(), 2);
    assert.deepEqual(t.columnNames(), ["method", "nauprc", "nauprc_mean", "nauprc_sd", "nauprc_n", "mse7", "mse7_mean", "mse7_sd", "mse7_n"]);
    assert.equal(t.get("nauprc", 0), "0.800 +/- 0.100");
    assert.equal(t.get("nauprc", 1), "-0.044 +/- 0.006");
    assert.equal(t.get("mse7", 1), "");
    close(t.get("nauprc_mean", 0) as number, 0.8, 1e-12, "numeric mean");
    const plain = meanSdTable({ a: { auroc: [1, 0] } }, { label: "setting", digits: 2 });
    assert.deepEqual(plain.columnNames(), ["setting", "auroc"]);
    assert.equal(plain.get("auroc", 0), "0.50 +/- 0.71");
  });
});

describe("groupValues", () => {
  it("collects each metric per label, in first-seen order, one value per row", () => {
    const rows = [
      { m: "b", x: 1, y: 10 },
      { m: "a", x: 2, y: 20 },
      { m: "b", x: 3, y: 30 },
    ];
    const g = groupValues(rows, (r) => r.m, { x: (r) => r.x, "y / 10": (r) => r.y / 10 });
    assert.deepEqual(Object.keys(g), ["b", "a"]);
    assert.deepEqual(g, { b: { x: [1, 3], "y / 10": [1, 3] }, a: { x: [2], "y / 10": [2] } });
    assert.deepEqual(
      groupValues([], () => "z", { x: () => 0 }),
      {},
    );
  });
});
