/**
 * The linear Granger baseline: a group-lasso VAR, one regression per receiver, on standardised
 * data. STUDY.md asks for it because it is cheap and strong on linear data, so the neural methods
 * must be shown against it. {@link fitGranger} gives the model, the solver and the data,
 * {@link GrangerConfig} the choice of lambda; {@link GrangerVar} is the fitted VAR as a
 * {@link Forecaster}.
 */
import { DataError } from "../data/errors";
import { at, fitScaler, panelLabel, type Panel } from "../data/panel";
import type { ForecastInputs, Forecaster, RolloutFeed } from "../core/forecaster";
import { type VarCoefficients, checkVarCoefficients, lagMatrices, solveLinearSystem } from "../core/linear-var";
import type { Graph } from "../graph";
import { tf } from "../tf";

// ---------------------------------------------------------------------------------------------
// Configuration and result
// ---------------------------------------------------------------------------------------------

/**
 * The configuration of {@link fitGranger}.
 *
 * Choice of lambda (`lambda: "auto"`, the default): a short path of fractions of lambda_max
 * (`lambdaPath`, default 0.3, 0.1, 0.03, 0.01; lambda_max is the smallest lambda at which every
 * sender group of every receiver is zero, with the own lags at their least-squares values), one
 * lambda shared by all receivers so that the scores are comparable across receivers, fitted
 * with warm starts from large to small.
 * - `selection: "bic"` (default): every path point is fitted on all rows and scored by
 *   `sum_i [n log(RSS_i / n) + df_i log n]` (summed over receivers, and units for scope
 *   "unit"), with df_i = 1 + L + L * (non-zero sender groups): the full-group count, which
 *   over-counts the shrunk coefficients and so errs on the sparse side. This is the default
 *   because the baseline's job is the graph, and held-out MSE keeps many more false edges.
 * - `selection: "validation"`: the last `validationFraction` of the window's steps (default 20%)
 *   of every unit are held out; each path point is fitted on the rest and scored by the one-step
 *   MSE on the held-out targets (all nodes, standardised scale, teacher-forced: the lags of a
 *   held-out target are observed values). The lambda with the smallest MSE is chosen and, with
 *   `refit` (default), the model is refitted on all rows at that lambda. One-step MSE is a
 *   forecasting criterion: the curve is flat near its minimum and it picks a small lambda with
 *   many weak false edges (the ranking, i.e. the scores, is hardly affected).
 *
 * `selection.path` keeps every point's criterion and edge count; `selection.atPathEnd` flags a
 * choice at the largest or smallest fraction (BIC may pick the largest fraction on short panels
 * with few units: extend the path there). A number for `lambda` fits that lambda on all rows
 * (selection "fixed").
 */
export interface GrangerConfig {
  /** Number of lags L (>= 1). */
  lags: number;
  /** The group-lasso penalty (>= 0, on the standardised scale), or "auto" for path + selection. */
  lambda: number | "auto";
  /** Fractions of lambda_max tried by "auto" (each in (0, 1]); fitted from large to small. */
  lambdaPath: readonly number[];
  /** How "auto" picks lambda: BIC on all rows (default), or held-out one-step MSE. */
  selection: "validation" | "bic";
  /** Share of the window's last steps held out per unit for `selection: "validation"`. */
  validationFraction: number;
  /** After validation selection, refit on all rows (estimation + held-out) at the chosen lambda. */
  refit: boolean;
  /** "pooled": one VAR for all units; "unit": one VAR per unit (shared lambda). */
  scope: "pooled" | "unit";
  /** Step window `[from, to)` the model is fitted on (the training window). Default: all steps. */
  steps?: { from: number; to: number };
  /** Unit indices fitted on (training units). Default: all units. */
  units?: readonly number[];
  /** Standardise each node by the window's mean / SD (default true); false uses the raw values. */
  standardise: boolean;
  /** Iteration cap of the proximal-gradient solver, per receiver and lambda. */
  maxIter: number;
  /** Convergence: largest coefficient change <= tol * max(1, largest coefficient). */
  tol: number;
}

export const GRANGER_DEFAULTS: Readonly<GrangerConfig> = Object.freeze({
  lags: 3,
  lambda: "auto" as const,
  lambdaPath: Object.freeze([0.3, 0.1, 0.03, 0.01]),
  selection: "bic" as const,
  validationFraction: 0.2,
  refit: true,
  scope: "pooled" as const,
  standardise: true,
  maxIter: 5000,
  tol: 1e-9,
});

/** One lambda of the path and its evidence. */
export interface GrangerPathPoint {
  /** Fraction of lambda_max (null for a fixed lambda). */
  fraction: number | null;
  lambda: number;
  /** Non-zero sender groups (edges), summed over units for scope "unit". */
  edges: number;
  /** Held-out one-step MSE (selection "validation"), standardised scale, all nodes. */
  validationMse?: number;
  /** BIC summed over receivers (and units) (selection "bic"). */
  bic?: number;
  /** Largest solver iteration count over receivers (and units). */
  iterations: number;
  /** Every receiver's solver met the tolerance. */
  converged: boolean;
}

export interface GrangerSelection {
  method: "fixed" | "validation" | "bic";
  /** Smallest lambda with every sender group zero (max over receivers and units). */
  lambdaMax: number;
  path: GrangerPathPoint[];
  /** Index of the chosen point in `path`. */
  selected: number;
  /**
   * The choice is the largest or smallest lambda of a path of more than one point: the
   * criterion may prefer a lambda outside the path (extend `lambdaPath`).
   */
  atPathEnd: boolean;
  /** Rows the path was fitted on, and held out (0 unless "validation"). */
  estimationRows: number;
  validationRows: number;
  /** Whether the final model was refitted on all rows after selection. */
  refit: boolean;
}

/** The VAR of one fit (the pooled model, or one unit's). Standardised scale. */
export interface GrangerVarFit {
  /** `coefficients[i][j][s - 1]`: weight of z_j(t - s) in receiver i's equation (own lags j = i); the layout of core/linear-var. */
  coefficients: VarCoefficients;
  /** Intercept of each receiver. */
  intercepts: number[];
  /** `scores[j][i]` = L2 norm of j's lag block in i's equation; diagonal 0. */
  scores: number[][];
  /** 1 where the sender group is non-zero. */
  support: Graph;
}

export interface GrangerUnitFit extends GrangerVarFit {
  /** Index of the unit in the panel, and its id. */
  unit: number;
  unitId: string;
}

export interface GrangerResult extends GrangerVarFit {
  scope: "pooled" | "unit";
  lags: number;
  nodes: number;
  nodeNames: string[];
  /** The selected (or fixed) lambda. */
  lambda: number;
  selection: GrangerSelection;
  /** Per-node standardisation (`z = (x - mean) / sd`) fitted on the window and units. */
  scaler: { mean: number[]; sd: number[] };
  /** Step window and unit indices fitted on. */
  steps: { from: number; to: number };
  units: number[];
  /** Rows (unit, t) of the final fit. */
  rows: number;
  /** The final fit converged for every receiver (and unit). */
  converged: boolean;
  /** Wall time of `fitGranger`, milliseconds. */
  fitMs: number;
  /**
   * Scope "unit": one fit per unit. The top-level `scores` are their mean, `coefficients` and
   * `intercepts` their mean (the average VAR), `support` is 1 where the group is non-zero in at
   * least half of the units.
   */
  unitFits?: GrangerUnitFit[];
  config: GrangerConfig;
}

// ---------------------------------------------------------------------------------------------
// Moments and the solver
// ---------------------------------------------------------------------------------------------

/** Sufficient statistics of a set of rows: features x (P = N * L), targets y (N). */
interface Moments {
  n: number;
  sx: Float64Array; // [P]
  sxx: Float64Array; // [P * P]
  sy: Float64Array; // [N]
  sxy: Float64Array; // [P * N]
  syy: Float64Array; // [N]
}

function newMoments(P: number, N: number): Moments {
  return { n: 0, sx: new Float64Array(P), sxx: new Float64Array(P * P), sy: new Float64Array(N), sxy: new Float64Array(P * N), syy: new Float64Array(N) };
}

function addMoments(a: Moments, b: Moments): Moments {
  const s = (x: Float64Array, y: Float64Array) => x.map((v, k) => v + y[k]);
  return { n: a.n + b.n, sx: s(a.sx, b.sx), sxx: s(a.sxx, b.sxx), sy: s(a.sy, b.sy), sxy: s(a.sxy, b.sxy), syy: s(a.syy, b.syy) };
}

/** The rows {@link accumulate} adds: N nodes, L lags, targets t in [from, to) (window-relative, t >= L). */
interface RowRange {
  N: number;
  L: number;
  from: number;
  to: number;
}

/**
 * Adds the rows of one unit with targets t in [rows.from, rows.to).
 * `z` holds the unit's standardised window, [W, N]. Feature p = j * L + (s - 1) is z_j(t - s).
 */
function accumulate(m: Moments, z: Float64Array, rows: RowRange): void {
  const { N, L } = rows;
  const P = N * L;
  const x = new Float64Array(P);
  for (let t = rows.from; t < rows.to; t++) {
    for (let j = 0; j < N; j++) for (let s = 1; s <= L; s++) x[j * L + s - 1] = z[(t - s) * N + j];
    const y = z.subarray(t * N, (t + 1) * N);
    for (let p = 0; p < P; p++) {
      const xp = x[p];
      m.sx[p] += xp;
      const row = p * P;
      for (let q = p; q < P; q++) m.sxx[row + q] += xp * x[q];
      const rowY = p * N;
      for (let i = 0; i < N; i++) m.sxy[rowY + i] += xp * y[i];
    }
    for (let i = 0; i < N; i++) {
      m.sy[i] += y[i];
      m.syy[i] += y[i] * y[i];
    }
    m.n++;
  }
}

/** The centred least-squares problem of a set of rows, shared by all receivers. */
interface Problem {
  N: number;
  L: number;
  P: number;
  n: number;
  xbar: Float64Array; // [P]
  ybar: Float64Array; // [N]
  gram: Float64Array; // [P * P], centred X'X / n
  cross: Float64Array; // [P * N], centred X'y / n
  vy: Float64Array; // [N], centred y'y / n
  lipschitz: number;
}

function makeProblem(m: Moments, N: number, L: number): Problem {
  const P = N * L;
  const n = m.n;
  const xbar = m.sx.map((v) => v / n);
  const ybar = m.sy.map((v) => v / n);
  const gram = new Float64Array(P * P);
  for (let p = 0; p < P; p++) {
    for (let q = p; q < P; q++) {
      const g = m.sxx[p * P + q] / n - xbar[p] * xbar[q];
      gram[p * P + q] = g;
      gram[q * P + p] = g;
    }
  }
  const cross = new Float64Array(P * N);
  for (let p = 0; p < P; p++) for (let i = 0; i < N; i++) cross[p * N + i] = m.sxy[p * N + i] / n - xbar[p] * ybar[i];
  const vy = m.syy.map((v, i) => v / n - ybar[i] * ybar[i]);
  return { N, L, P, n, xbar, ybar, gram, cross, vy, lipschitz: 1.01 * largestEigenvalue(gram, P) || 1 };
}

/** Largest eigenvalue of a symmetric PSD matrix by power iteration. */
function largestEigenvalue(a: Float64Array, P: number): number {
  let v = new Float64Array(P).fill(1 / Math.sqrt(P));
  let lambda = 0;
  for (let it = 0; it < 1000; it++) {
    const w = matVec(a, v, P);
    const norm = Math.sqrt(dot(w, w));
    if (norm === 0) return 0;
    const next = dot(v, w);
    v = w.map((x) => x / norm);
    if (it > 5 && Math.abs(next - lambda) <= 1e-12 * Math.abs(next)) return next;
    lambda = next;
  }
  return lambda;
}

function matVec(a: Float64Array, v: Float64Array, P: number): Float64Array {
  const out = new Float64Array(P);
  for (let p = 0; p < P; p++) {
    let s = 0;
    const row = p * P;
    for (let q = 0; q < P; q++) s += a[row + q] * v[q];
    out[p] = s;
  }
  return out;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += a[k] * b[k];
  return s;
}

/** lambda_max of receiver i: own lags at least squares, senders zero, largest sender-gradient norm. */
function lambdaMaxOf(pr: Problem, i: number): number {
  const { N, L, P, gram, cross } = pr;
  const own = Array.from({ length: L }, (_, a) => i * L + a);
  const block = Float64Array.from(own.flatMap((p) => own.map((q) => gram[p * P + q])));
  const beta = solveLinearSystem(block, L, [own.map((p) => cross[p * N + i])], { ridge: 1e-12, what: "fitGranger" })[0];
  let best = 0;
  for (let j = 0; j < N; j++) {
    if (j === i) continue;
    let s2 = 0;
    for (let a = 0; a < L; a++) {
      const p = j * L + a;
      let g = -cross[p * N + i];
      own.forEach((q, k) => (g += gram[p * P + q] * beta[k]));
      s2 += g * g;
    }
    best = Math.max(best, Math.sqrt(s2));
  }
  return best;
}

/** Block soft-thresholding of every sender group of `receiver` (own block untouched), in place. */
function prox(beta: Float64Array, p: { receiver: number; N: number; L: number; threshold: number }): void {
  const { receiver: i, N, L, threshold } = p;
  if (threshold <= 0) return;
  for (let j = 0; j < N; j++) {
    if (j === i) continue;
    let s2 = 0;
    for (let a = 0; a < L; a++) s2 += beta[j * L + a] ** 2;
    const norm = Math.sqrt(s2);
    const f = norm > threshold ? 1 - threshold / norm : 0;
    for (let a = 0; a < L; a++) beta[j * L + a] *= f;
  }
}

/** The penalty and the stopping rule of one solve. */
interface SolverSettings {
  lambda: number;
  /** Iteration cap per receiver. */
  maxIter: number;
  /** Convergence tolerance (see {@link GrangerConfig.tol}). */
  tol: number;
}

/** FISTA with adaptive restart for receiver i at lambda; `beta` is the warm start and is overwritten. */
function solveReceiver(pr: Problem, i: number, beta: Float64Array, settings: SolverSettings): { iterations: number; converged: boolean } {
  const { lambda, maxIter, tol } = settings;
  const { N, L, P, gram, cross, lipschitz } = pr;
  const step = 1 / lipschitz;
  const c = new Float64Array(P);
  for (let p = 0; p < P; p++) c[p] = cross[p * N + i];
  let x = Float64Array.from(beta);
  let y = Float64Array.from(beta);
  let tk = 1;
  const next = new Float64Array(P);
  for (let it = 1; it <= maxIter; it++) {
    const g = matVec(gram, y, P);
    for (let p = 0; p < P; p++) next[p] = y[p] - step * (g[p] - c[p]);
    prox(next, { receiver: i, N, L, threshold: step * lambda });
    let change = 0;
    let size = 0;
    let restart = 0;
    for (let p = 0; p < P; p++) {
      change = Math.max(change, Math.abs(next[p] - x[p]));
      size = Math.max(size, Math.abs(next[p]));
      restart += (y[p] - next[p]) * (next[p] - x[p]);
    }
    if (change <= tol * Math.max(1, size)) {
      beta.set(next);
      return { iterations: it, converged: true };
    }
    if (restart > 0) {
      tk = 1;
      y = Float64Array.from(next);
    } else {
      const tn = (1 + Math.sqrt(1 + 4 * tk * tk)) / 2;
      const mom = (tk - 1) / tn;
      for (let p = 0; p < P; p++) y[p] = next[p] + mom * (next[p] - x[p]);
      tk = tn;
    }
    x = Float64Array.from(next);
  }
  beta.set(x);
  return { iterations: maxIter, converged: false };
}

/** Coefficients of all receivers of one problem: betas[i] is a [P] vector. */
interface Solution {
  betas: Float64Array[];
  iterations: number;
  converged: boolean;
}

/** Solves every receiver of a problem, each from its `warm` start (zeros without one). */
function solveAll(pr: Problem, settings: SolverSettings & { warm?: Float64Array[] }): Solution {
  const { warm } = settings;
  let iterations = 0;
  let converged = true;
  const betas = Array.from({ length: pr.N }, (_, i) => {
    const b = warm ? Float64Array.from(warm[i]) : new Float64Array(pr.P);
    const r = solveReceiver(pr, i, b, settings);
    iterations = Math.max(iterations, r.iterations);
    converged &&= r.converged;
    return b;
  });
  return { betas, iterations, converged };
}

function intercept(pr: Problem, beta: Float64Array, i: number): number {
  return pr.ybar[i] - dot(pr.xbar, beta);
}

function groupNonZero(beta: Float64Array, j: number, L: number): boolean {
  for (let a = 0; a < L; a++) if (beta[j * L + a] !== 0) return true;
  return false;
}

function edgesOf(sol: Solution, N: number, L: number): number {
  let e = 0;
  sol.betas.forEach((b, i) => {
    for (let j = 0; j < N; j++) if (j !== i && groupNonZero(b, j, L)) e++;
  });
  return e;
}

/** Sum of squared one-step errors of the rows in `v`, with the model fitted on problem `pr`. */
function heldOutSse(pr: Problem, sol: Solution, v: Moments): number {
  const { N, P } = pr;
  let sse = 0;
  sol.betas.forEach((b, i) => {
    const b0 = intercept(pr, b, i);
    let bxy = 0;
    for (let p = 0; p < P; p++) bxy += b[p] * v.sxy[p * N + i];
    let bxxb = 0;
    for (let p = 0; p < P; p++) {
      if (b[p] === 0) continue;
      let s = v.sxx[p * P + p] * b[p];
      for (let q = p + 1; q < P; q++) s += 2 * v.sxx[p * P + q] * b[q];
      bxxb += b[p] * s;
    }
    sse += v.syy[i] - 2 * b0 * v.sy[i] - 2 * bxy + v.n * b0 * b0 + 2 * b0 * dot(b, v.sx) + bxxb;
  });
  return Math.max(0, sse);
}

/** BIC of the fit on its own rows: sum_i n log(RSS_i / n) + df_i log n. */
function bicOf(pr: Problem, sol: Solution): number {
  const { N, L, P, n, gram, cross, vy } = pr;
  let bic = 0;
  sol.betas.forEach((b, i) => {
    let bgb = 0;
    let bc = 0;
    for (let p = 0; p < P; p++) {
      bc += b[p] * cross[p * N + i];
      if (b[p] === 0) continue;
      for (let q = 0; q < P; q++) bgb += b[p] * gram[p * P + q] * b[q];
    }
    const mse = Math.max(1e-300, bgb - 2 * bc + vy[i]);
    let df = 1 + L;
    for (let j = 0; j < N; j++) if (j !== i && groupNonZero(b, j, L)) df += L;
    bic += n * Math.log(mse) + df * Math.log(n);
  });
  return bic;
}

function toVarFit(pr: Problem, sol: Solution): GrangerVarFit {
  const { N, L } = pr;
  const coefficients = sol.betas.map((b) => Array.from({ length: N }, (_, j) => Array.from(b.subarray(j * L, (j + 1) * L))));
  const intercepts = sol.betas.map((b, i) => intercept(pr, b, i));
  const scores = Array.from({ length: N }, (_, j) => Array.from({ length: N }, (_, i) => (i === j ? 0 : Math.hypot(...coefficients[i][j]))));
  const support = scores.map((row) => row.map((v) => (v > 0 ? 1 : 0)));
  return { coefficients, intercepts, scores, support };
}

// ---------------------------------------------------------------------------------------------
// Fitting
// ---------------------------------------------------------------------------------------------

function checkConfig(c: GrangerConfig): void {
  const bad = (d: string): never => {
    throw new Error(`fitGranger: ${d}`);
  };
  if (!Number.isInteger(c.lags) || c.lags < 1) bad(`lags must be an integer >= 1, got ${c.lags}`);
  if (c.lambda !== "auto" && !(typeof c.lambda === "number" && Number.isFinite(c.lambda) && c.lambda >= 0)) {
    bad(`lambda must be "auto" or a finite number >= 0, got ${c.lambda}`);
  }
  if (c.lambda === "auto") {
    if (c.lambdaPath.length === 0) bad("lambdaPath is empty");
    for (const f of c.lambdaPath) if (!(f > 0 && f <= 1)) bad(`lambdaPath fractions must be in (0, 1], got ${f}`);
    if (c.selection !== "validation" && c.selection !== "bic") bad(`selection must be "validation" or "bic", got ${c.selection}`);
    if (c.selection === "validation" && !(c.validationFraction > 0 && c.validationFraction < 1)) {
      bad(`validationFraction must be in (0, 1), got ${c.validationFraction}`);
    }
  }
  if (c.scope !== "pooled" && c.scope !== "unit") bad(`scope must be "pooled" or "unit", got ${c.scope}`);
  if (!Number.isInteger(c.maxIter) || c.maxIter < 1) bad(`maxIter must be an integer >= 1, got ${c.maxIter}`);
  if (!(c.tol > 0)) bad(`tol must be > 0, got ${c.tol}`);
}

const nodeName = (panel: Panel, i: number): string => panel.nodeNames?.[i] ?? `node ${i}`;
const unitIdOf = (panel: Panel, u: number): string => panel.unitIds?.[u] ?? `${u}`;

/** What a fit reads of the panel, checked: N nodes, L lags, the step window, the units, the held-out steps. */
interface GrangerInput {
  N: number;
  L: number;
  /** The step window `[from, to)` and its length W. */
  win: { from: number; to: number };
  W: number;
  /** Unit indices fitted on, in the given order. */
  units: number[];
  /** lambda is chosen by held-out one-step MSE, on the last V steps of every unit's window. */
  useValidation: boolean;
  V: number;
}

/**
 * Checks the panel against the configuration: its size, the step window, the units, that the
 * window holds L lags, one target and the held-out steps, and that every value in it is finite.
 */
function checkInput(panel: Panel, c: GrangerConfig): GrangerInput {
  const { nodes: N, steps: T } = panel;
  const L = c.lags;
  if (panel.values.length !== panel.units * T * N) {
    throw new Error(`fitGranger: values has ${panel.values.length} entries, expected units*steps*nodes = ${panel.units}*${T}*${N}`);
  }
  const win = c.steps ?? { from: 0, to: T };
  if (!(Number.isInteger(win.from) && Number.isInteger(win.to) && win.from >= 0 && win.to <= T && win.from < win.to)) {
    throw new Error(`fitGranger: steps [${win.from}, ${win.to}) is not a step range within 0..${T}`);
  }
  const W = win.to - win.from;
  const units = c.units ? [...c.units] : Array.from({ length: panel.units }, (_, u) => u);
  if (units.length === 0 || units.some((u) => !Number.isInteger(u) || u < 0 || u >= panel.units)) {
    throw new Error(`fitGranger: units must be unit indices in 0..${panel.units - 1}`);
  }
  if (new Set(units).size !== units.length) throw new Error("fitGranger: a unit index appears twice in units");
  const useValidation = c.lambda === "auto" && c.selection === "validation";
  const V = useValidation ? Math.max(1, Math.round(c.validationFraction * W)) : 0;
  if (W < L + 1 + V) {
    const what = V > 0 ? `L = ${L} lags, one target and ${V} held-out validation step${V === 1 ? "" : "s"}` : `L = ${L} lags and one target`;
    throw new Error(`fitGranger: the step window [${win.from}, ${win.to}) has ${W} steps per unit; ${what} need at least ${L + 1 + V}`);
  }
  checkFinite(panel, win, units);
  return { N, L, win, W, units, useValidation, V };
}

/** Throws a `DataError` naming the unit, step and node of the first non-finite value in the window. */
function checkFinite(panel: Panel, win: { from: number; to: number }, units: readonly number[]): void {
  for (const u of units) {
    for (let t = win.from; t < win.to; t++) {
      for (let i = 0; i < panel.nodes; i++) {
        const x = panel.values[at(panel, u, t, i)];
        if (!Number.isFinite(x)) {
          const where = `unit "${unitIdOf(panel, u)}" (index ${u}), step ${t}`;
          throw new DataError({ file: panelLabel(panel), column: nodeName(panel, i) }, `fitGranger: value ${x} at ${where}: values must be finite`);
        }
      }
    }
  }
}

/**
 * Standardisation by the window's statistics (over the fitted units; mean 0 and SD 1 without
 * `standardise`), then one [W, N] float64 block per unit.
 */
function standardiseWindows(panel: Panel, c: GrangerConfig, input: GrangerInput): { mean: number[]; sd: number[]; z: Float64Array[] } {
  const { N, win, W, units } = input;
  let mean: number[] = new Array<number>(N).fill(0);
  let sd: number[] = new Array<number>(N).fill(1);
  if (c.standardise) {
    const s = fitScaler(panel, { steps: win, units, scope: "node", log1p: "none" });
    mean = s.mean[0];
    sd = s.sd[0];
  }
  const z = units.map((u) => {
    const out = new Float64Array(W * N);
    for (let t = 0; t < W; t++) for (let i = 0; i < N; i++) out[t * N + i] = (panel.values[at(panel, u, win.from + t, i)] - mean[i]) / sd[i];
    return out;
  });
  return { mean, sd, z };
}

/** The moments and least-squares problems of a fit, one per group (one group pooled, one per unit). */
interface GroupProblems {
  /** Moments of the estimation rows, of the held-out rows, and of both. */
  est: Moments[];
  val: Moments[];
  all: Moments[];
  estProblems: Problem[];
  allProblems: Problem[];
  /** The problems the lambda path is fitted on: estimation rows for validation, else all rows. */
  pathProblems: Problem[];
  /** Smallest lambda with every sender group zero, over the path problems' receivers. */
  lambdaMax: number;
}

/** Accumulates each group's moments (estimation rows and held-out rows) and makes its problems. */
function groupProblems(z: readonly Float64Array[], c: GrangerConfig, input: GrangerInput): GroupProblems {
  const { N, L, W, V, useValidation } = input;
  const P = N * L;
  const groups = c.scope === "pooled" ? [z.map((_, k) => k)] : z.map((_, k) => [k]);
  const est = groups.map((g) => {
    const m = newMoments(P, N);
    for (const k of g) accumulate(m, z[k], { N, L, from: L, to: W - V });
    return m;
  });
  const val = groups.map((g) => {
    const m = newMoments(P, N);
    for (const k of g) accumulate(m, z[k], { N, L, from: W - V, to: W });
    return m;
  });
  const all = est.map((m, g) => (V > 0 ? addMoments(m, val[g]) : m));
  const estProblems = est.map((m) => makeProblem(m, N, L));
  const allProblems = V > 0 ? all.map((m) => makeProblem(m, N, L)) : estProblems;
  const pathProblems = useValidation ? estProblems : allProblems;
  const lambdaMax = Math.max(0, ...pathProblems.flatMap((pr) => Array.from({ length: N }, (_, i) => lambdaMaxOf(pr, i))));
  return { est, val, all, estProblems, allProblems, pathProblems, lambdaMax };
}

/** The lambdas tried, each with its evidence; the index of the chosen one and its solutions. */
interface PathFit {
  path: GrangerPathPoint[];
  selected: number;
  sols: Solution[];
}

/** A path point's edge count, largest iteration count and convergence over the groups' solutions. */
function pathPoint(fraction: number | null, lambda: number, sols: readonly Solution[], input: GrangerInput): GrangerPathPoint {
  return {
    fraction,
    lambda,
    edges: sols.reduce((s, sol) => s + edgesOf(sol, input.N, input.L), 0),
    iterations: Math.max(...sols.map((s) => s.iterations)),
    converged: sols.every((s) => s.converged),
  };
}

/**
 * `lambda: "auto"`: fits the path's fractions of lambda_max from large to small with warm
 * starts, scores each by held-out MSE or BIC, and keeps the best point's solutions.
 */
function fitLambdaPath(c: GrangerConfig, gp: GroupProblems, input: GrangerInput): PathFit {
  const { N, useValidation } = input;
  const { pathProblems, val } = gp;
  const path: GrangerPathPoint[] = [];
  let sols: Solution[] = [];
  let selected = 0;
  const fractions = [...c.lambdaPath].sort((a, b) => b - a);
  let warm: Solution[] | undefined;
  let best = Infinity;
  for (const fraction of fractions) {
    const lambda = fraction * gp.lambdaMax;
    const cur = pathProblems.map((pr, g) => solveAll(pr, { lambda, warm: warm?.[g].betas, maxIter: c.maxIter, tol: c.tol }));
    const point = pathPoint(fraction, lambda, cur, input);
    let crit: number;
    if (useValidation) {
      const sse = cur.reduce((s, sol, g) => s + heldOutSse(pathProblems[g], sol, val[g]), 0);
      const rows = val.reduce((s, m) => s + m.n, 0);
      crit = point.validationMse = sse / (rows * N);
    } else {
      crit = point.bic = cur.reduce((s, sol, g) => s + bicOf(pathProblems[g], sol), 0);
    }
    if (crit < best) {
      best = crit;
      selected = path.length;
      sols = cur;
    }
    path.push(point);
    warm = cur;
  }
  return { path, selected, sols };
}

/** A fixed lambda: one fit on all rows, a path of one point. */
function fitFixedLambda(lambda: number, c: GrangerConfig, gp: GroupProblems, input: GrangerInput): PathFit {
  const sols = gp.allProblems.map((pr) => solveAll(pr, { lambda, warm: undefined, maxIter: c.maxIter, tol: c.tol }));
  return { path: [pathPoint(null, lambda, sols, input)], selected: 0, sols };
}

/** The chosen lambda, whether the model was refitted, and the final problems with their solutions. */
interface FinalFit {
  lambda: number;
  refit: boolean;
  problems: Problem[];
  sols: Solution[];
}

/**
 * The final fit at the chosen lambda: after validation selection with `refit`, refitted on all
 * rows from the path's solutions; otherwise the path's solutions on the rows they were fitted on.
 */
function finalFit(c: GrangerConfig, gp: GroupProblems, pf: PathFit, input: GrangerInput): FinalFit {
  const lambda = pf.path[pf.selected].lambda;
  const refit = input.useValidation && c.refit;
  let problems = gp.pathProblems;
  let sols = pf.sols;
  if (refit) {
    problems = gp.allProblems;
    sols = gp.allProblems.map((pr, g) => solveAll(pr, { lambda, warm: sols[g].betas, maxIter: c.maxIter, tol: c.tol }));
  } else if (input.useValidation) {
    problems = gp.estProblems;
  }
  return { lambda, refit, problems, sols };
}

/**
 * The reported VAR: the pooled fit, or for scope "unit" the units' fits with their mean
 * coefficients, intercepts and scores, and the support of at least half of the units.
 */
function combineFits(fits: GrangerVarFit[], panel: Panel, c: GrangerConfig, input: GrangerInput): { top: GrangerVarFit; unitFits?: GrangerUnitFit[] } {
  if (c.scope === "pooled") return { top: fits[0] };
  const { N, L, units } = input;
  const unitFits = fits.map((f, k) => ({ ...f, unit: units[k], unitId: unitIdOf(panel, units[k]) }));
  const R = fits.length;
  const avg = (get: (f: GrangerVarFit) => number) => fits.reduce((s, f) => s + get(f), 0) / R;
  const top: GrangerVarFit = {
    coefficients: Array.from({ length: N }, (_, i) =>
      Array.from({ length: N }, (_, j) => Array.from({ length: L }, (_, a) => avg((f) => f.coefficients[i][j][a]))),
    ),
    intercepts: Array.from({ length: N }, (_, i) => avg((f) => f.intercepts[i])),
    scores: Array.from({ length: N }, (_, j) => Array.from({ length: N }, (_, i) => avg((f) => f.scores[j][i]))),
    support: Array.from({ length: N }, (_, j) => Array.from({ length: N }, (_, i) => (i !== j && avg((f) => f.support[j][i]) >= 0.5 ? 1 : 0))),
  };
  return { top, unitFits };
}

/**
 * Fits the group-lasso VAR to a panel and returns the edge scores with the evidence of the
 * lambda choice ({@link GrangerConfig}). Throws a `DataError` naming the unit, step and node of a
 * non-finite value in the window, and an error when the window is too short for L lags (plus the
 * held-out steps).
 *
 * Model (on standardised data, see below), for every receiver i and every row (unit u, step t):
 *
 *     z_i(u, t) = b_i + sum_{j} sum_{s=1..L} B[i][j][s-1] z_j(u, t - s) + e
 *
 * (B in the layout of lib/core/linear-var.ts: receiver i, sender j, lag s - 1).
 *
 * fitted by minimising, per receiver i,
 *
 *     1/(2n) sum_rows (z_i - b_i - x' beta_i)^2 + lambda * sum_{j != i} ||B[i][j][.]||_2
 *
 * The intercept b_i and the receiver's own lag block B[i][i] are never penalised (a node's own
 * past is always available and is no attribution claim); every other sender j has one group of
 * L coefficients. The edge score of j -> i is the L2 norm of that group, `scores[j][i]`
 * (diagonal 0). A sender is in the recovered `support` when its group is non-zero.
 *
 * Fitting: the design (all nodes' L lags) is the same for every receiver, so the centred Gram
 * matrix `X'X/n` and `X'z_i/n` are accumulated once from the rows (nothing of size n is stored)
 * and each receiver is solved by FISTA with adaptive (gradient) restart and block
 * soft-thresholding; the step is 1 / (largest eigenvalue of the Gram matrix, by power iteration,
 * times 1.01). Unpenalised intercepts are handled exactly by centring. With `lambda = 0` the
 * solution is ordinary least squares.
 *
 * Data: rows are (unit, t) pairs with targets t in [from + L, to) of the step window `steps`
 * (lags come from inside the window). Every node is standardised by its mean and SD over the
 * window and the fitted units (the panel's training statistics, `fitScaler` scope "node"), so
 * lambda and the scores are on a common scale across nodes whatever the raw units are.
 * `scope: "pooled"` (default) fits one VAR shared by all units; `scope: "unit"` fits one VAR
 * per unit (with one shared lambda), and the reported scores are the mean of the units' scores,
 * as the study averages per-unit graph scores. Raw spend is standardised but not
 * log-transformed here: pass a log1p-scaled panel for heavy-tailed raw data.
 */
export function fitGranger(panel: Panel, config: Partial<GrangerConfig> = {}): GrangerResult {
  const start = performance.now();
  const c: GrangerConfig = { ...GRANGER_DEFAULTS, ...config };
  checkConfig(c);
  const input = checkInput(panel, c);
  const { N, L, win, units, useValidation } = input;
  const { mean, sd, z } = standardiseWindows(panel, c, input);
  const gp = groupProblems(z, c, input);
  const pf = c.lambda === "auto" ? fitLambdaPath(c, gp, input) : fitFixedLambda(c.lambda, c, gp, input);
  const { path, selected } = pf;
  const { lambda, refit, problems, sols } = finalFit(c, gp, pf, input);
  const fits = problems.map((pr, g) => toVarFit(pr, sols[g]));
  const { top, unitFits } = combineFits(fits, panel, c, input);
  const estRows = (useValidation ? gp.est : gp.all).reduce((s, m) => s + m.n, 0);
  return {
    ...top,
    scope: c.scope,
    lags: L,
    nodes: N,
    nodeNames: Array.from({ length: N }, (_, i) => nodeName(panel, i)),
    lambda,
    selection: {
      method: c.lambda === "auto" ? c.selection : "fixed",
      lambdaMax: gp.lambdaMax,
      path,
      selected,
      atPathEnd: path.length > 1 && (selected === 0 || selected === path.length - 1),
      estimationRows: estRows,
      validationRows: useValidation ? gp.val.reduce((s, m) => s + m.n, 0) : 0,
      refit,
    },
    scaler: { mean: [...mean], sd: [...sd] },
    steps: { from: win.from, to: win.to },
    units,
    rows: problems.reduce((s, pr) => s + pr.n, 0),
    converged: sols.every((s) => s.converged),
    fitMs: performance.now() - start,
    unitFits,
    config: { ...c, lambdaPath: [...c.lambdaPath] },
  };
}

// ---------------------------------------------------------------------------------------------
// The fitted VAR as a Forecaster
// ---------------------------------------------------------------------------------------------

/** A linear VAR on standardised values: what {@link GrangerVar} computes. */
export interface GrangerVarParams {
  /** `coefficients[i][j][s - 1]`: weight of z_j(t - s) in receiver i's equation (N x N x L; core/linear-var's layout). */
  coefficients: VarCoefficients;
  /** Intercept per receiver (N); default 0. */
  intercepts?: number[];
  /** Standardisation `z = (x - mean) / sd` (N each); default 0 and 1 (the raw scale). */
  mean?: number[];
  sd?: number[];
}

/**
 * The fitted VAR as a {@link Forecaster} (`acceptsGraph = false`, `minHistory = L`):
 * `x_hat(t + 1) = unscale(b + sum_s B_s scale(x(t + 1 - s)))` on the scale of the fitted panel:
 * it reads and returns the scale of the panel it was fitted on (it standardises its input and
 * un-standardises its predictions).
 * In `predictOneStep`, lags before step 0 (rows t + 1 < L, defined but not scored) are taken at
 * the node means (zero on the standardised scale).
 */
export class GrangerVar implements Forecaster {
  readonly nodes: number;
  readonly lags: number;
  readonly minHistory: number;
  readonly acceptsGraph = false;
  /** `weights[s - 1]`: lag matrix s as [N * N] row-major, entry (j, i) = coefficients[i][j][s - 1] (sender-major for x @ W). */
  private readonly weights: Float32Array[];
  private readonly intercepts: Float32Array;
  private readonly mean: Float32Array;
  private readonly sd: Float32Array;

  constructor(params: GrangerVarParams) {
    const { coefficients } = params;
    const { nodes: N, lags: L } = checkVarCoefficients(coefficients, "GrangerVar");
    const vec = (v: number[] | undefined, fill: number, what: string) => {
      if (v === undefined) return new Float32Array(N).fill(fill);
      if (v.length !== N || v.some((x) => !Number.isFinite(x))) throw new Error(`GrangerVar: ${what} must be ${N} finite numbers`);
      return Float32Array.from(v);
    };
    this.nodes = N;
    this.lags = L;
    this.minHistory = L;
    this.intercepts = vec(params.intercepts, 0, "intercepts");
    this.mean = vec(params.mean, 0, "mean");
    this.sd = vec(params.sd, 1, "sd");
    if (this.sd.some((s) => !(s > 0))) throw new Error("GrangerVar: sd must be > 0");
    this.weights = lagMatrices(coefficients).map((A) => Float32Array.from(A.flat()));
  }

  /** The pooled VAR of a result, or unit `unitFits[unit]` of a scope-"unit" result. */
  static fromResult(result: GrangerResult, unit?: number): GrangerVar {
    let fit: GrangerVarFit = result;
    if (unit !== undefined) {
      if (!result.unitFits) throw new Error('GrangerVar.fromResult: the result has no per-unit fits (scope is not "unit")');
      const f = result.unitFits[unit];
      if (!f) throw new Error(`GrangerVar.fromResult: unit ${unit} is not in 0..${result.unitFits.length - 1}`);
      fit = f;
    }
    return new GrangerVar({ coefficients: fit.coefficients, intercepts: fit.intercepts, mean: result.scaler.mean, sd: result.scaler.sd });
  }

  private checkX(x: tf.Tensor, what: string): [number, number, number] {
    if (x.rank !== 3) throw new Error(`GrangerVar.${what}: x must be [batch, steps, nodes], got shape [${x.shape}]`);
    const [B, S, N] = x.shape as [number, number, number];
    if (N !== this.nodes) throw new Error(`GrangerVar.${what}: x has ${N} nodes, the VAR has ${this.nodes}`);
    return [B, S, N];
  }

  /** Standardised x: (x - mean) / sd, broadcast over the last axis. */
  private scale(x: tf.Tensor): tf.Tensor {
    return tf.div(tf.sub(x, tf.tensor1d(this.mean)), tf.tensor1d(this.sd));
  }

  private unscale(z: tf.Tensor): tf.Tensor {
    return tf.add(tf.mul(z, tf.tensor1d(this.sd)), tf.tensor1d(this.mean));
  }

  /** One step on the standardised scale: `lagged[s - 1]` is z(t + 1 - s), each [rows, N]. */
  private step(lagged: tf.Tensor2D[]): tf.Tensor2D {
    const N = this.nodes;
    let acc: tf.Tensor2D = tf.add(tf.zeros([lagged[0].shape[0], N]), tf.tensor1d(this.intercepts));
    lagged.forEach((z, a) => {
      acc = tf.add(acc, tf.matMul(z, tf.tensor2d(this.weights[a], [N, N])));
    });
    return acc;
  }

  predictOneStep(x: tf.Tensor3D, _inputs?: ForecastInputs): tf.Tensor3D {
    const [B, S, N] = this.checkX(x, "predictOneStep");
    const L = this.lags;
    return tf.tidy(() => {
      const z = this.scale(x) as tf.Tensor3D;
      const padded = L > 1 ? tf.concat([tf.zeros([B, L - 1, N]), z], 1) : z;
      // Lag s of output row t is z(t + 1 - s) = padded[t + L - s].
      const lagged = Array.from({ length: L }, (_, a) => tf.reshape(tf.slice(padded, [0, L - 1 - a, 0], [B, S, N]), [B * S, N]) as tf.Tensor2D);
      return tf.reshape(this.unscale(this.step(lagged)), [B, S, N]) as tf.Tensor3D;
    });
  }

  rollout(x: tf.Tensor3D, horizon: number, inputs?: ForecastInputs & { feed?: RolloutFeed }): tf.Tensor3D {
    const [B, t0, N] = this.checkX(x, "rollout");
    const L = this.lags;
    if (t0 < L) throw new Error(`GrangerVar.rollout: x has ${t0} steps of history, the VAR needs at least minHistory = ${L}`);
    if (!Number.isInteger(horizon) || horizon < 1) throw new Error(`GrangerVar.rollout: horizon must be an integer >= 1, got ${horizon}`);
    const feed = inputs?.feed;
    let maskShape: [number, number, number] | undefined;
    if (feed) {
      const vs = feed.values.shape;
      if (feed.values.rank !== 3 || vs[0] !== B || vs[1] !== horizon || vs[2] !== N) {
        throw new Error(`GrangerVar.rollout: feed.values must be [batch, horizon, nodes] = [${B}, ${horizon}, ${N}], got [${vs}]`);
      }
      if (feed.mask.rank > 3) throw new Error(`GrangerVar.rollout: feed.mask has rank ${feed.mask.rank}, expected at most 3`);
      const ms = [...new Array<number>(3 - feed.mask.rank).fill(1), ...feed.mask.shape] as [number, number, number];
      const full = [B, horizon, N];
      ms.forEach((d, k) => {
        if (d !== 1 && d !== full[k]) {
          throw new Error(`GrangerVar.rollout: feed.mask of shape [${feed.mask.shape}] does not broadcast to [batch, horizon, nodes] = [${full}]`);
        }
      });
      maskShape = ms;
    }
    return tf.tidy(() => {
      const z = this.scale(x);
      const window = Array.from({ length: L }, (_, k) => tf.reshape(tf.slice(z, [0, t0 - L + k, 0], [B, 1, N]), [B, N]) as tf.Tensor2D);
      const fedZ = feed ? this.scale(feed.values) : undefined;
      const mask = feed && maskShape ? tf.reshape(tf.cast(feed.mask, "float32"), maskShape) : undefined;
      const outs: tf.Tensor2D[] = [];
      for (let h = 0; h < horizon; h++) {
        // window[L - s] is z(t0 + h - s).
        const pred = this.step(Array.from({ length: L }, (_, a) => window[L - 1 - a]));
        outs.push(pred);
        if (h === horizon - 1) break;
        let next: tf.Tensor2D = pred;
        if (fedZ && mask && maskShape) {
          const mh = maskShape[1] === 1 ? 0 : h;
          const m = tf.broadcastTo(tf.reshape(tf.slice(mask, [0, mh, 0], [maskShape[0], 1, maskShape[2]]), [maskShape[0], maskShape[2]]), [B, N]);
          const v = tf.reshape(tf.slice(fedZ, [0, h, 0], [B, 1, N]), [B, N]);
          next = tf.where(tf.greater(m, 0.5), v, pred) as tf.Tensor2D;
        }
        window.shift();
        window.push(next);
      }
      return this.unscale(tf.stack(outs, 1)) as tf.Tensor3D;
    });
  }
}
