import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { influenceAgreement, scoreTargetColumn } from "../../lib/diagnostics/agreement";
import type { InfluenceMatrix } from "../../lib/diagnostics/influence";
import type { Graph } from "../../lib/graph";

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-12, `${what}: ${a} vs ${b}`);

// Off-diagonal pairs in row-major order (0,1) (0,2) (1,0) (1,2) (2,0) (2,1); the diagonal (99) is never read.
const truth = [
  [99, 1, 2],
  [3, 99, 4],
  [5, 6, 99],
];
const model = [
  [-7, 1, 1],
  [3, 0, 2],
  [5, 4, 7],
];

describe("influenceAgreement", () => {
  it("Spearman (ties averaged) and relative error over all pairs and on the target's column, by hand", () => {
    const a = influenceAgreement(model, truth, 2);
    // model ranks 0.5 0.5 3 2 5 4 against 0..5: sum of products of deviations 15, squares 17 and 17.5
    assert.equal(a.all.pairs, 6);
    close(a.all.spearman.value, 15 / Math.sqrt(17 * 17.5), "all, Spearman");
    // |m - t| = 0 1 0 2 0 2 over sum |t| = 21
    close(a.all.relativeError.value, 5 / 21, "all, relative error");
    assert.equal(a.all.spearman.reason, undefined);
    // column 2: senders 0, 1 with model 1, 2 and truth 2, 4
    assert.equal(a.target.target, 2);
    assert.equal(a.target.pairs, 2);
    close(a.target.spearman.value, 1, "column, Spearman");
    close(a.target.relativeError.value, 3 / 6, "column, relative error");
    assert.ok(Number.isNaN(a.target.nauprc.value));
    assert.match(a.target.nauprc.reason!, /no true graph given/);
  });

  it("nAUPRC and AUROC of the target's column against a true graph", () => {
    const g = (from: number): Graph => [0, 1, 2].map((j) => [0, 1, 2].map((i) => (i === 2 && j === from ? 1 : 0)));
    const right = influenceAgreement(model, truth, 2, g(1));
    assert.equal(right.target.nauprc.value, 1);
    assert.equal(right.target.auroc.value, 1);
    // the edge 0 -> 2 ranked below the non-edge 1 -> 2: AP 1/2 = prevalence
    const wrong = influenceAgreement(model, truth, 2, g(0));
    assert.equal(wrong.target.nauprc.value, 0);
    assert.equal(wrong.target.auroc.value, 0);
    const none = influenceAgreement(model, truth, 2, g(-1));
    assert.ok(Number.isNaN(none.target.nauprc.value) && Number.isNaN(none.target.auroc.value));
    assert.match(none.target.nauprc.reason!, /target column: no positive label/);
    const both = influenceAgreement(model, truth, 2, [
      [0, 0, 1],
      [0, 0, 1],
      [0, 0, 0],
    ]);
    assert.match(both.target.nauprc.reason!, /no negative label/);
  });

  it("NaN with a reason when a measure is undefined", () => {
    const zeros = truth.map((row) => row.map(() => 0));
    const flat = influenceAgreement(zeros, truth, 2);
    assert.ok(Number.isNaN(flat.all.spearman.value));
    assert.match(flat.all.spearman.reason!, /model's influence is constant over the 6 pairs/);
    close(flat.all.relativeError.value, 1, "a zero model has relative error 1");
    const noTruth = influenceAgreement(model, zeros, 0);
    assert.match(noTruth.all.spearman.reason!, /true influence is constant/);
    assert.ok(Number.isNaN(noTruth.target.relativeError.value));
    assert.match(noTruth.target.relativeError.reason!, /true influence is 0 on all 2 pairs/);
    const withNaN = influenceAgreement(
      model.map((row, j) => row.map((v, i) => (j === 1 && i === 0 ? NaN : v))),
      truth,
      2,
    );
    assert.match(withNaN.all.spearman.reason!, /model's value of 1 -> 0 is NaN/);
    assert.match(withNaN.all.relativeError.reason!, /1 -> 0/);
    assert.equal(withNaN.target.spearman.value, 1, "the column does not hold the NaN");
    const two = influenceAgreement(
      [
        [0, 1],
        [2, 0],
      ],
      [
        [0, 1],
        [3, 0],
      ],
      1,
    );
    assert.match(two.target.spearman.reason!, /1 pair\(s\): a rank correlation needs at least two/);
    close(two.target.relativeError.value, 0, "one exact pair");
  });

  it("ties values that differ by floating-point noise, accepts influence matrices, and checks shapes", () => {
    const noisy = model.map((row) => row.map((v) => v * (1 + 1e-9)));
    noisy[0][1] = noisy[0][2] - 2e-9; // equal to it in exact arithmetic
    const a = influenceAgreement({ values: noisy }, { values: truth }, 2);
    close(a.all.spearman.value, 15 / Math.sqrt(17 * 17.5), "noise is a tie");
    // without the tolerance the noise is a ranking: rank differences 0 0 1 -1 1 -1
    close(influenceAgreement(noisy, truth, 2, undefined, { tieTolerance: 0 }).all.spearman.value, 1 - (6 * 4) / (6 * 35), "no tolerance");
    assert.throws(() => influenceAgreement([[1]], truth, 0), /influenceAgreement \(model\): expected an 3 x 3 matrix/);
    assert.throws(() => influenceAgreement(model, truth, 3), /target 3 is not a node index in 0..2/);
  });
});

describe("scoreTargetColumn", () => {
  const g = (senders: number[]): Graph => [0, 1, 2, 3].map((j) => [0, 1, 2, 3].map((i) => (i === 3 && senders.includes(j) ? 1 : 0)));
  const m = (col: number[]) => [0, 1, 2, 3].map((j) => [0, 1, 2, 3].map((i) => (i === 3 ? col[j] : 5)));

  it("scores a bare matrix's column against one graph (the other columns do not count)", () => {
    const s = scoreTargetColumn(m([0.9, 0.1, 0.5, 9]), g([0, 2]), 3);
    assert.equal(s.headline.from, "matrix");
    assert.equal(s.headline.nauprc, 1);
    assert.equal(s.matrix.positives, 2);
    assert.equal(s.matrix.negatives, 1);
    assert.deepEqual(s.perUnit, []);
    const half = scoreTargetColumn(m([0.9, 0.5, 0.1, 0]), g([0, 2]), 3);
    close(half.matrix.auroc, 0.5, "one of two edges above the non-edge");
  });

  it("scores an influence matrix per unit against each unit's graph; the headline is the unit mean when the columns differ", () => {
    const per = [m([1, 0, 0, 0]), m([0, 1, 0, 0]), m([1, 0, 0, 0])];
    const im: InfluenceMatrix = {
      kind: "ar-cig-direct",
      values: m([2 / 3, 1 / 3, 0, 0]),
      perUnit: per,
      units: [0, 2, 3],
      origins: [10],
      history: 5,
      horizon: 7,
      delta: [1, 1, 1, 1],
    };
    const graphs = [g([0]), g([2]), g([1]), g([0])];
    const s = scoreTargetColumn(im, graphs, 3);
    assert.deepEqual(
      s.perUnit.map((r) => r.nauprc),
      [1, 1, 1],
    );
    assert.equal(s.headline.from, "unit-mean");
    assert.equal(s.headline.nauprc, 1);
    assert.match(s.matrix.reason!, /different target columns/);
    const shared = scoreTargetColumn(im, g([0]), 3);
    assert.equal(shared.headline.from, "matrix");
    assert.equal(shared.headline.auroc, 1);
    assert.throws(() => scoreTargetColumn(im, [g([0])], 3), /no true graph for unit 2/);
    const empty = scoreTargetColumn(m([1, 0, 0, 0]), g([]), 3);
    assert.ok(Number.isNaN(empty.headline.nauprc));
    assert.match(empty.headline.reason!, /no positive label/);
  });
});
