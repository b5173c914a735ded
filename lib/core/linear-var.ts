/**
 * The one coefficient layout of the study's linear VARs ({@link VarCoefficients}), and the one
 * linear solver of their least-squares fits (the Granger baseline, the OLS check of the
 * generators, the analytic linear VAR forecaster all use these), so that every linear VAR of the
 * study reads its coefficients the same way.
 */

/**
 * `coef[i][j][s - 1]`: weight of x_j(t - s) in receiver i's equation (N x N x L), the layout of
 * every linear VAR of the study. It is the weight of sender j's lag s, x_j(t - s), in receiver
 * i's equation (j = i: i's own autoregression), so that
 *
 *     x_i(t) = b_i + sum_j sum_{s=1..L} coef[i][j][s - 1] x_j(t - s)
 *
 * Index order: receiver i, sender j, lag s - 1. Receiver-major because each row `coef[i]` is one
 * regression, as the fits estimate it; this is STUDY.md's `W[i,j,s]` and the order of the
 * generator's edge weights. Graphs are sender-major (`G[j][i]` for j -> i); {@link lagMatrices}
 * gives the same coefficients in that orientation, one N x N matrix per lag, the form a
 * forecaster multiplies by (`x(t + 1) = b + sum_s x(t + 1 - s) A_s`).
 */
export type VarCoefficients = number[][][];

/** `A[s - 1][j][i] = coef[i][j][s - 1]`: one N x N matrix per lag, in graph orientation (sender j, receiver i). */
export type LagMatrices = number[][][];

/**
 * Checks that `coef` is N x N x L with N, L >= 1 and finite entries; returns N and L. Errors
 * start with `what` and name the first bad entry.
 */
export function checkVarCoefficients(coef: VarCoefficients, what: string): { nodes: number; lags: number } {
  const N = coef.length;
  if (N < 1) throw new Error(`${what}: coefficients must be N x N x L with N >= 1`);
  const L = coef[0]?.[0]?.length ?? 0;
  if (L < 1) throw new Error(`${what}: coefficients must be N x N x L with L >= 1`);
  coef.forEach((row, i) => {
    if (row.length !== N) throw new Error(`${what}: coefficients[${i}] has ${row.length} senders, expected ${N}`);
    row.forEach((lags, j) => {
      if (lags.length !== L) throw new Error(`${what}: coefficients[${i}][${j}] has ${lags.length} lags, expected ${L}`);
      lags.forEach((v, a) => {
        if (!Number.isFinite(v)) throw new Error(`${what}: coefficients[${i}][${j}][${a}] is ${v}`);
      });
    });
  });
  return { nodes: N, lags: L };
}

/** The coefficients as lag matrices: `A[s - 1][j][i] = coef[i][j][s - 1]` (L x N x N). */
export function lagMatrices(coef: VarCoefficients): LagMatrices {
  const N = coef.length;
  const L = coef[0]?.[0]?.length ?? 0;
  return Array.from({ length: L }, (_, a) => Array.from({ length: N }, (_, j) => Array.from({ length: N }, (_, i) => coef[i][j][a])));
}

/** The inverse of {@link lagMatrices}: `coef[i][j][s - 1] = A[s - 1][j][i]` (N x N x L). */
export function fromLagMatrices(A: LagMatrices): VarCoefficients {
  const L = A.length;
  const N = A[0]?.length ?? 0;
  return Array.from({ length: N }, (_, i) => Array.from({ length: N }, (_, j) => Array.from({ length: L }, (_, a) => A[a][j][i])));
}

export interface SolveOptions {
  /**
   * Added to every diagonal entry before solving, as a fraction of the largest |A[k][k]|
   * (default 0): a tiny ridge keeps a singular Gram matrix solvable.
   */
  ridge?: number;
  /**
   * At a zero pivot (a column that is zero from the diagonal down: a constant or duplicated
   * regressor without a ridge): "zero" sets that unknown to 0 (default), "throw" throws.
   */
  singular?: "zero" | "throw";
  /** Start of the error messages (default "solveLinearSystem"). */
  what?: string;
}

/**
 * Solves `A x = b` for every right-hand side b: Gaussian elimination with partial pivoting on
 * A (n x n, row-major, e.g. the Gram matrix X'X of a least-squares problem), the right-hand
 * sides carried along. Each right-hand side gets exactly the arithmetic of a solve of its own.
 */
export function solveLinearSystem(a: ArrayLike<number>, n: number, rhs: readonly ArrayLike<number>[], options: SolveOptions = {}): Float64Array[] {
  const what = options.what ?? "solveLinearSystem";
  if (a.length !== n * n) throw new Error(`${what}: the matrix has ${a.length} entries, expected ${n} x ${n}`);
  rhs.forEach((b, q) => {
    if (b.length !== n) throw new Error(`${what}: right-hand side ${q} has ${b.length} entries, expected ${n}`);
  });
  const R = rhs.length;
  const ridge = options.ridge ?? 0;
  let scale = 1e-300;
  for (let k = 0; k < n; k++) scale = Math.max(scale, Math.abs(a[k * n + k]));
  // Augmented rows [A | b_0 ... b_{R-1}]; rows are swapped by reference.
  const m = Array.from({ length: n }, (_, r) => {
    const row = new Float64Array(n + R);
    for (let c = 0; c < n; c++) row[c] = a[r * n + c] + (c === r ? ridge * scale : 0);
    for (let q = 0; q < R; q++) row[n + q] = rhs[q][r];
    return row;
  });
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[piv][c])) piv = r;
    [m[c], m[piv]] = [m[piv], m[c]];
    const d = m[c][c];
    if (d === 0) {
      if (options.singular === "throw") throw new Error(`${what}: the matrix is singular at column ${c}; a regressor is constant or collinear`);
      continue;
    }
    for (let r = c + 1; r < n; r++) {
      const f = m[r][c] / d;
      if (f !== 0) for (let k = c; k < n + R; k++) m[r][k] -= f * m[c][k];
    }
  }
  return rhs.map((_, q) => {
    const x = new Float64Array(n);
    for (let r = n - 1; r >= 0; r--) {
      let s = m[r][n + q];
      for (let k = r + 1; k < n; k++) s -= m[r][k] * x[k];
      x[r] = m[r][r] === 0 ? 0 : s / m[r][r];
    }
    return x;
  });
}
