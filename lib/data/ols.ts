/**
 * Ordinary least squares VAR on a panel: a check that a generator does what it says (and a
 * reference for the linear Granger baseline). {@link fitVarOls} gives the regression, the
 * unit effects and how the coefficients are reported.
 */
import { type VarCoefficients, solveLinearSystem } from "../core/linear-var";
import { type Panel, at } from "./panel";

export interface VarOlsOptions {
  /** L, the number of lags. */
  lags: number;
  /** Units pooled in the fit (default all). Units with different true graphs should be fitted apart. */
  units?: readonly number[];
  /** One intercept per unit (within estimator) instead of one shared intercept (default true). */
  unitEffects?: boolean;
}

export interface VarOlsFit {
  lags: number;
  nodeNames: string[];
  /** coef[i][j][s - 1]: standardised coefficient of x_j(t - s) in the equation of x_i (core/linear-var's layout). */
  coef: VarCoefficients;
  /** blockNorm[j][i]: L2 norm over s of coef[i][j][.], in graph orientation (j -> i). The diagonal holds the own-lag block. */
  blockNorm: number[][];
  /**
   * contribution[j][i]: SD of j's fitted lag-block term sum_s B[i,j,s] x_j(t-s) over the rows,
   * divided by SD(x_i): how much of i moves with j's past, insensitive to offsetting
   * coefficients of collinear lags. Diagonal: the own-lag block.
   */
  contribution: number[][];
  /**
   * wald[j][i]: Wald statistic of "j's lag block is zero" in i's equation
   * (chi-squared with L degrees of freedom under the null, homoscedastic errors).
   */
  wald: number[][];
  /** R^2 of each receiver's equation. */
  r2: number[];
  /** Number of rows (unit-steps) in the fit. */
  rows: number;
}

/** The normal equations S b = r of the fit; a zero pivot (a constant or collinear regressor) throws. */
const solve = (S: Float64Array, p: number, rhs: Float64Array[]): Float64Array[] => solveLinearSystem(S, p, rhs, { singular: "throw", what: "fitVarOls" });

/** The normal equations of the fit, accumulated over the rows of every unit, and the targets' sums. */
interface NormalEquations {
  /** Columns: 0 the shared intercept, then 1 + j * L + (s - 1) for x_j(t - s). */
  p: number;
  /** X'X [p * p], both triangles filled. */
  XtX: Float64Array;
  /** X'y of each receiver, [p] each. */
  XtY: Float64Array[];
  /** Sum and sum of squares of each receiver's (centred, with unit effects) targets. */
  sum: Float64Array;
  sum2: Float64Array;
  /** Rows accumulated. */
  n: number;
}

/** The design buffers of one unit, reused across units: X [rows, p] and Y [rows, N], with L lags and unit effects `fe`. */
interface UnitDesign {
  L: number;
  fe: boolean;
  p: number;
  X: Float64Array;
  Y: Float64Array;
}

/**
 * Fills the design X and targets Y of unit u (targets t = L..T-1), centred per column over the
 * unit's rows when `fe` (the within estimator).
 */
function unitDesign(panel: Panel, u: number, design: UnitDesign): void {
  const { L, fe, X, Y, p } = design;
  const N = panel.nodes;
  const rowsPerUnit = panel.steps - L;
  for (let r = 0; r < rowsPerUnit; r++) {
    const t = r + L;
    X[r * p] = 1;
    for (let j = 0; j < N; j++) for (let s = 1; s <= L; s++) X[r * p + 1 + j * L + (s - 1)] = panel.values[at(panel, u, t - s, j)];
    for (let i = 0; i < N; i++) Y[r * N + i] = panel.values[at(panel, u, t, i)];
  }
  if (!fe) return;
  for (let a = 0; a < p; a++) {
    let m = 0;
    for (let r = 0; r < rowsPerUnit; r++) m += X[r * p + a];
    m /= rowsPerUnit;
    for (let r = 0; r < rowsPerUnit; r++) X[r * p + a] -= m;
  }
  for (let i = 0; i < N; i++) {
    let m = 0;
    for (let r = 0; r < rowsPerUnit; r++) m += Y[r * N + i];
    m /= rowsPerUnit;
    for (let r = 0; r < rowsPerUnit; r++) Y[r * N + i] -= m;
  }
}

/**
 * Accumulates X'X, X'y and the targets' sums over the units' rows (lower triangle, then
 * mirrored); with unit effects the all-zero intercept column is pinned (X'X[0][0] = 1).
 * Throws when there are no more rows than coefficients.
 */
function normalEquations(panel: Panel, L: number, units: readonly number[], fe: boolean): NormalEquations {
  const N = panel.nodes;
  const p = 1 + N * L; // column 0: the shared intercept (all zeros after centring with unit effects)
  const XtX = new Float64Array(p * p);
  const XtY = Array.from({ length: N }, () => new Float64Array(p));
  const sum = new Float64Array(N);
  const sum2 = new Float64Array(N);
  const rowsPerUnit = panel.steps - L;
  const X = new Float64Array(rowsPerUnit * p);
  const Y = new Float64Array(rowsPerUnit * N);
  let n = 0;
  for (const u of units) {
    unitDesign(panel, u, { L, fe, p, X, Y });
    for (let r = 0; r < rowsPerUnit; r++) {
      const row = X.subarray(r * p, (r + 1) * p);
      for (let a = 0; a < p; a++) {
        const ra = row[a];
        if (ra === 0) continue;
        for (let b = 0; b <= a; b++) XtX[a * p + b] += ra * row[b];
      }
      for (let i = 0; i < N; i++) {
        const y = Y[r * N + i];
        const xi = XtY[i];
        for (let a = 0; a < p; a++) xi[a] += row[a] * y;
        sum[i] += y;
        sum2[i] += y * y;
      }
      n++;
    }
  }
  if (fe) XtX[0] = 1; // the shared intercept is identically zero after centring: pin it
  if (n <= p) throw new Error(`fitVarOls: ${n} rows for ${p} coefficients`);
  for (let a = 0; a < p; a++) for (let b = 0; b < a; b++) XtX[b * p + a] = XtX[a * p + b];
  return { p, XtX, XtY, sum, sum2, n };
}

/** b'X'y of receiver i: the explained part of its sum of squares. */
function explained(ne: NormalEquations, b: Float64Array, i: number): number {
  let bxy = 0;
  for (let a = 0; a < ne.p; a++) bxy += b[a] * ne.XtY[i][a];
  return bxy;
}

/**
 * The Wald statistic and the contribution of every sender block j in every receiver i's
 * equation (see {@link VarOlsFit}), from (X'X)^-1 and the covariance of the regressors.
 */
function blockStatistics(
  ne: NormalEquations,
  beta: Float64Array[],
  sd: number[],
  fit: { N: number; L: number; fe: boolean; units: number },
): { contribution: number[][]; wald: number[][] } {
  const { p, XtX, sum2, n } = ne;
  const { N, L, fe } = fit;
  // (X'X)^-1 for the Wald statistics; the covariance of the regressors for the contributions.
  const inv = solve(
    XtX,
    p,
    Array.from({ length: p }, (_, k) => {
      const e = new Float64Array(p);
      e[k] = 1;
      return e;
    }),
  );
  const dof = n - p - (fe ? fit.units : 0);
  const sigma2 = beta.map((b, i) => Math.max(sum2[i] - explained(ne, b, i), 0) / dof);
  const colMean = Array.from({ length: p }, (_, a) => (fe ? 0 : XtX[a] / n)); // column 0 is the intercept (all ones) without unit effects
  const cov = (a: number, b: number) => XtX[a * p + b] / n - colMean[a] * colMean[b];
  const contribution = Array.from({ length: N }, () => new Array<number>(N).fill(0));
  const wald = Array.from({ length: N }, () => new Array<number>(N).fill(0));
  const idx = (j: number) => Array.from({ length: L }, (_, s) => 1 + j * L + s);
  for (let j = 0; j < N; j++) {
    const cols = idx(j);
    // The L x L block of (X'X)^-1, inverted (small).
    const V = new Float64Array(L * L);
    cols.forEach((a, r) => cols.forEach((b, c) => (V[r * L + c] = inv[b][a])));
    for (let i = 0; i < N; i++) {
      const bj = cols.map((a) => beta[i][a]);
      let q = 0;
      cols.forEach((a, r) => cols.forEach((b, c) => (q += bj[r] * bj[c] * cov(a, b))));
      contribution[j][i] = sd[i] > 0 ? Math.sqrt(Math.max(q, 0)) / sd[i] : 0;
      const z = solve(V, L, [Float64Array.from(bj)])[0];
      wald[j][i] = sigma2[i] > 0 ? bj.reduce((a, v, r) => a + v * z[r], 0) / sigma2[i] : 0;
    }
  }
  return { contribution, wald };
}

/**
 * Fits the VAR by OLS. Per receiver i, pooled over the chosen units:
 *
 *     x_i(t) = b_i + sum_j sum_{s=1..L} B[i,j,s] x_j(t-s) + r_i(t),   t = L..T-1
 *
 * With `unitEffects` (default) b_i is a separate intercept per unit (the "within" estimator:
 * y and every regressor are centred per unit), so that level differences between units (a
 * unit's spend level) are not mistaken for dynamics. Every receiver shares the design matrix
 * (all nodes' L lags), so X'X is formed once and the normal equations of every receiver are
 * solved together by the shared solver (`solveLinearSystem`, lib/core/linear-var.ts).
 * Coefficients are reported standardised (`B * sd_j / sd_i`, SDs over the rows used) so that
 * lag-block norms compare across nodes whose scales differ, in the VAR layout of core/linear-var.
 */
export function fitVarOls(panel: Panel, options: VarOlsOptions): VarOlsFit {
  const L = options.lags;
  const N = panel.nodes;
  const units = options.units ?? Array.from({ length: panel.units }, (_, u) => u);
  if (!Number.isInteger(L) || L < 1 || L >= panel.steps) throw new Error(`fitVarOls: lags must be an integer in 1..${panel.steps - 1}`);
  const fe = options.unitEffects ?? true;
  const ne = normalEquations(panel, L, units, fe);
  const { p, XtX, XtY, sum, sum2, n } = ne;
  const beta = solve(XtX, p, XtY);
  const mean = Array.from(sum, (s) => s / n);
  const sd = Array.from(sum2, (s2, i) => Math.sqrt(Math.max(s2 / n - mean[i] ** 2, 0)));
  // Residual sums of squares from the normal equations: RSS = y'y - b'X'y.
  const r2 = beta.map((b, i) => {
    const rss = sum2[i] - explained(ne, b, i);
    const tss = sum2[i] - n * mean[i] ** 2;
    return tss > 0 ? 1 - rss / tss : NaN;
  });
  const { contribution, wald } = blockStatistics(ne, beta, sd, { N, L, fe, units: units.length });
  const standardised = (b: Float64Array, i: number, j: number, s: number) => (sd[i] > 0 ? (b[1 + j * L + s] * sd[j]) / sd[i] : 0);
  const coef = beta.map((b, i) => Array.from({ length: N }, (_, j) => Array.from({ length: L }, (_, s) => standardised(b, i, j, s))));
  const blockNorm = Array.from({ length: N }, (_, j) => Array.from({ length: N }, (_, i) => Math.sqrt(coef[i][j].reduce((a, v) => a + v * v, 0))));
  return { lags: L, nodeNames: [...panel.nodeNames], coef, blockNorm, contribution, wald, r2, rows: n };
}
