import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { initBackend } from "../../lib/backend";
import { checkVarCoefficients, fromLagMatrices, lagMatrices, solveLinearSystem } from "../../lib/core/linear-var";
import { LinearVarForecaster } from "../../lib/diagnostics/linear-var";
import { GrangerVar } from "../../lib/models/granger";
import { Rng } from "../../lib/rng";
import { tf } from "../../lib/tf";

// Two nodes, two lags: coef[i][j][s - 1] = 10 i + j + s / 10, so every entry says where it is.
const coef = [0, 1].map((i) => [0, 1].map((j) => [1, 2].map((s) => 10 * i + j + s / 10)));

describe("the VAR coefficient layout", () => {
  it("lagMatrices puts coef[i][j][s - 1] at A[s - 1][j][i]; fromLagMatrices inverts it", () => {
    const A = lagMatrices(coef);
    assert.equal(A.length, 2);
    for (let s = 1; s <= 2; s++) for (let j = 0; j < 2; j++) for (let i = 0; i < 2; i++) assert.equal(A[s - 1][j][i], 10 * i + j + s / 10);
    assert.deepEqual(fromLagMatrices(A), coef);
  });

  it("checkVarCoefficients returns N and L and names the first bad entry", () => {
    assert.deepEqual(checkVarCoefficients(coef, "t"), { nodes: 2, lags: 2 });
    assert.throws(() => checkVarCoefficients([], "t"), /^Error: t: coefficients must be N x N x L with N >= 1/);
    assert.throws(() => checkVarCoefficients([[[]]], "t"), /with L >= 1/);
    assert.throws(() => checkVarCoefficients([[[1], [2]], [[3]]], "t"), /coefficients\[1\] has 1 senders, expected 2/);
    assert.throws(
      () =>
        checkVarCoefficients(
          [
            [[1], [2, 0]],
            [[3], [4]],
          ],
          "t",
        ),
      /coefficients\[0\]\[1\] has 2 lags, expected 1/,
    );
    assert.throws(
      () =>
        checkVarCoefficients(
          [
            [[1], [NaN]],
            [[3], [4]],
          ],
          "t",
        ),
      /coefficients\[0\]\[1\]\[0\] is NaN/,
    );
  });

  it("a linear VAR forecaster and the Granger VAR read the same coefficients the same way", async () => {
    await initBackend(undefined, null);
    const x = tf.tensor3d([1, 2, -1, 0.5, 2, -2, 0.3, 1], [1, 4, 2]);
    const byCoef = new LinearVarForecaster({ coefficients: coef });
    const byLags = new LinearVarForecaster({ weights: lagMatrices(coef) });
    const granger = new GrangerVar({ coefficients: coef });
    const [a, b, c] = [byCoef, byLags, granger].map((f) => f.rollout(x, 3));
    // x(4) by hand: x_i = sum_j sum_s coef[i][j][s - 1] x_j(4 - s)
    const last = [
      [0.3, 1],
      [2, -2],
    ]; // x(3), x(2)
    const first = [0, 1].map((i) => [0, 1].reduce((sum, j) => sum + coef[i][j][0] * last[0][j] + coef[i][j][1] * last[1][j], 0));
    const av = a.dataSync();
    first.forEach((v, i) => assert.ok(Math.abs(av[i] - v) <= 1e-4 * Math.abs(v), `step 1 node ${i}: ${av[i]} vs ${v}`));
    assert.deepEqual(b.dataSync(), av);
    assert.deepEqual(c.dataSync(), av);
    assert.deepEqual(byCoef.coefficients, coef);
    assert.throws(() => new LinearVarForecaster({}), /exactly one of coefficients and weights/);
    assert.throws(() => new LinearVarForecaster({ coefficients: coef, weights: lagMatrices(coef) }), /exactly one/);
    tf.dispose([x, a, b, c]);
  });
});

describe("solveLinearSystem", () => {
  const rng = new Rng(3);
  const n = 6;
  // A = M'M + I (a Gram matrix), three right-hand sides
  const M = Array.from({ length: n * n }, () => rng.normal());
  const A = new Float64Array(n * n);
  for (let r = 0; r < n; r++)
    for (let c = 0; c < n; c++) {
      let s = r === c ? 1 : 0;
      for (let k = 0; k < n; k++) s += M[k * n + r] * M[k * n + c];
      A[r * n + c] = s;
    }
  const rhs = Array.from({ length: 3 }, () => Float64Array.from({ length: n }, () => rng.normal()));

  it("solves A x = b for every right-hand side; each gets exactly what a solve of its own gives", () => {
    const xs = solveLinearSystem(A, n, rhs);
    xs.forEach((x, q) => {
      for (let r = 0; r < n; r++) {
        let s = 0;
        for (let c = 0; c < n; c++) s += A[r * n + c] * x[c];
        assert.ok(Math.abs(s - rhs[q][r]) <= 1e-10, `rhs ${q} row ${r}: ${s} vs ${rhs[q][r]}`);
      }
      assert.deepEqual(solveLinearSystem(A, n, [rhs[q]])[0], x);
    });
  });

  it("pivots: a zero on the diagonal is no obstacle when another row has the column", () => {
    assert.deepEqual([...solveLinearSystem([0, 2, 4, 0], 2, [[6, 8]])[0]], [2, 3]);
  });

  it('a zero pivot gives 0 for that unknown, throws with singular: "throw"; a ridge makes a singular matrix solvable', () => {
    const S = [4, 0, 0, 0]; // second regressor constant (zero after centring)
    assert.deepEqual([...solveLinearSystem(S, 2, [[8, 0]])[0]], [2, 0]);
    assert.throws(() => solveLinearSystem(S, 2, [[8, 0]], { singular: "throw", what: "fit" }), /^Error: fit: the matrix is singular at column 1/);
    const ridged = solveLinearSystem([1, 1, 1, 1], 2, [[2, 2]], { ridge: 1e-12 })[0];
    assert.ok(ridged.every((v) => Number.isFinite(v)) && Math.abs(ridged[0] + ridged[1] - 2) < 1e-9, `${ridged}`);
    assert.throws(() => solveLinearSystem([1, 2, 3], 2, []), /3 entries, expected 2 x 2/);
    assert.throws(() => solveLinearSystem([1, 0, 0, 1], 2, [[1]]), /right-hand side 0 has 1 entries/);
  });
});
