/**
 * A PCMCI-style baseline for lagged graph recovery: conditional-independence tests with linear
 * partial correlations (ParCorr), written from the published algorithm (Runge et al. 2019), not
 * from its reference implementation. Why: a constraint-based linear baseline beside the
 * group-lasso Granger VAR, one that conditions on the receiver's and the sender's own past, which
 * pairwise lagged correlation does not. {@link fitPcmci} gives the algorithm.
 */
import { type NodeRole, type Panel, allowedPairs } from "../data/panel";
import { solveLinearSystem } from "../core/linear-var";
import type { Graph } from "../graph";

// ---------------------------------------------------------------------------------------------
// Configuration and result
// ---------------------------------------------------------------------------------------------

export interface PcmciConfig {
  /** tau_max: the largest lag tested (>= 1). */
  maxLag: number;
  /** Significance level of PC1's condition selection (a tuning parameter, not an error rate). */
  pcAlpha: number;
  /** Largest conditioning-set size of PC1 (p_max); null: no limit. */
  maxConds: number | null;
  /** MCI: how many of the sender's own parents (strongest first) are conditioned on; null: all. */
  maxCondsPx: number | null;
  /** MCI significance level of `support`. */
  alpha: number;
  /** Multiple-testing correction of the MCI p-values for `support`: none, or Benjamini-Hochberg over all MCI tests. */
  correction: "none" | "fdr-bh";
  /** Standardise each node per unit over the window (default true). */
  standardise: boolean;
  /** Step window `[from, to)` (e.g. the training window). Default: all steps. */
  steps?: { from: number; to: number };
  /** Unit indices pooled (e.g. training units). Default: all units. */
  units?: readonly number[];
  /** Role constraints: no edge into a channel, none out of the target. null: none. */
  roles: NodeRole[] | null;
}

export const PCMCI_DEFAULTS: Readonly<PcmciConfig> = Object.freeze({
  maxLag: 3,
  pcAlpha: 0.2,
  maxConds: null,
  maxCondsPx: null,
  alpha: 0.05,
  correction: "none" as const,
  standardise: true,
  roles: null,
});

export type PcmciInput = Partial<PcmciConfig>;

/** A lagged variable x_node(t - lag). */
export interface LaggedVariable {
  node: number;
  lag: number;
}

/** A parent selected by PC1, with its weakest evidence over the PC1 tests. */
export interface PcmciParent extends LaggedVariable {
  /** Smallest |partial correlation| over the PC1 tests of this parent. */
  minAbsStatistic: number;
  /** Largest p-value over those tests (<= pcAlpha). */
  maxPValue: number;
}

/** One partial-correlation test. */
export interface ParCorrResult {
  /** The partial correlation (residual correlation), in [-1, 1]. */
  r: number;
  /** t = r sqrt(df / (1 - r^2)). */
  t: number;
  /** n - 2 - (conditioning variables). */
  df: number;
  /** Two-sided p-value of the t test. */
  pValue: number;
  n: number;
}

export interface PcmciResult {
  nodes: number;
  nodeNames: string[];
  maxLag: number;
  /** `scores[j][i]` = max over lags of |MCI partial correlation| of j -> i; 0 on the diagonal and on ruled-out pairs. */
  scores: number[][];
  /** `statistic[j][i][tau - 1]`: the MCI partial correlation of x_j(t - tau) and x_i(t) (0 where not tested). */
  statistic: number[][][];
  /** `pValue[j][i][tau - 1]`: its two-sided p-value (1 where not tested). */
  pValue: number[][][];
  /** The p-values `support` is decided on: `pValue`, or Benjamini-Hochberg adjusted (correction "fdr-bh"). */
  adjustedPValue: number[][][];
  /** Smallest (unadjusted) p-value over lags (1 where not tested). */
  minPValue: number[][];
  /** The lag of the largest |statistic| (0 where not tested). */
  bestLag: number[][];
  /** 1 where some lag has adjusted p-value <= alpha. */
  support: Graph;
  /** 1 where the pair j -> i was tested (off-diagonal and allowed by the roles). */
  allowed: Graph;
  /** `parents[i]`: PC1's selection for receiver i, strongest first (own lags included). */
  parents: PcmciParent[][];
  /** PC1 iterations (conditioning sizes visited) per receiver, and the total number of PC1 tests. */
  pc1: { iterations: number[]; tests: number };
  /** Number of MCI tests. */
  mciTests: number;
  /** Rows (unit, t) of each stage's sample. */
  rows: { pc1: number; mci: number };
  /** Step window and unit indices used. */
  steps: { from: number; to: number };
  units: number[];
  config: PcmciConfig;
}

// ---------------------------------------------------------------------------------------------
// Student's t and the partial correlation
// ---------------------------------------------------------------------------------------------

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012,
  9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Gamma(x) for x >= 0.5 (Lanczos, g = 7). */
function logGamma(x: number): number {
  const z = x - 1;
  let a = LANCZOS[0];
  for (let k = 1; k < LANCZOS.length; k++) a += LANCZOS[k] / (z + k);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the incomplete beta (modified Lentz), for x < (a + 1) / (a + b + 2). */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let f = 1;
  let c = 1;
  let d = 0;
  for (let k = 1; k <= 20000; k++) {
    const m = k >> 1;
    const coef = k % 2 === 1 ? (-(a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1)) : (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m));
    d = 1 + coef * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + coef / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-15) return f;
  }
  return f;
}

/** The regularised incomplete beta function I_x(a, b), a, b >= 0.5. */
function regularizedBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x));
  if (x < (a + 1) / (a + b + 2)) return front / a / betaContinuedFraction(x, a, b);
  return 1 - front / b / betaContinuedFraction(1 - x, b, a);
}

/** Two-sided p-value P(|T| >= |t|) of Student's t with `df` degrees of freedom (df > 0). */
export function studentTwoSidedP(t: number, df: number): number {
  if (!(df > 0)) throw new Error(`studentTwoSidedP: df must be > 0, got ${df}`);
  if (!Number.isFinite(t)) return Number.isNaN(t) ? NaN : 0;
  const p = regularizedBeta(df / (df + t * t), df / 2, 0.5);
  return Math.min(1, Math.max(0, p));
}

/**
 * The partial correlation of variables `x` and `y` given `z` (indices into a K x K centred
 * covariance or cross-product matrix `cov`, row-major) on `n` rows, with its t test. Degenerate
 * cases (a variable constant, or explained exactly by `z`) give r = 0 and p = 1.
 */
function parCorrFromCov(cov: Float64Array, K: number, x: number, y: number, z: readonly number[], n: number, what: string): ParCorrResult {
  const k = z.length;
  const df = n - 2 - k;
  if (df < 1) throw new Error(`${what}: ${n} rows are too few for a partial correlation given ${k} variables (df = ${df})`);
  let sxx = cov[x * K + x];
  let syy = cov[y * K + y];
  let sxy = cov[x * K + y];
  const rawX = sxx;
  const rawY = syy;
  if (k > 0) {
    const g = new Float64Array(k * k);
    const bx = new Float64Array(k);
    const by = new Float64Array(k);
    for (let a = 0; a < k; a++) {
      for (let b = 0; b < k; b++) g[a * k + b] = cov[z[a] * K + z[b]];
      bx[a] = cov[z[a] * K + x];
      by[a] = cov[z[a] * K + y];
    }
    const [betaX, betaY] = solveLinearSystem(g, k, [bx, by], { what });
    for (let a = 0; a < k; a++) {
      sxx -= bx[a] * betaX[a];
      syy -= by[a] * betaY[a];
      sxy -= bx[a] * betaY[a];
    }
  }
  const eps = 1e-12;
  if (!(rawX > 0) || !(rawY > 0) || !(sxx > eps * rawX) || !(syy > eps * rawY)) return { r: 0, t: 0, df, pValue: 1, n };
  const r = Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
  const t = Math.abs(r) === 1 ? Math.sign(r) * Infinity : r * Math.sqrt(df / (1 - r * r));
  return { r, t, df, pValue: studentTwoSidedP(t, df), n };
}

/** Centred cross-product matrix (two passes: means, then centred sums) of `columns` (each of length n). */
function crossProducts(columns: readonly ArrayLike<number>[], n: number): Float64Array {
  const K = columns.length;
  const mean = columns.map((c) => {
    let s = 0;
    for (let r = 0; r < n; r++) s += c[r];
    return s / n;
  });
  const cov = new Float64Array(K * K);
  for (let a = 0; a < K; a++) {
    for (let b = a; b < K; b++) {
      const ca = columns[a];
      const cb = columns[b];
      let s = 0;
      for (let r = 0; r < n; r++) s += (ca[r] - mean[a]) * (cb[r] - mean[b]);
      cov[a * K + b] = s;
      cov[b * K + a] = s;
    }
  }
  return cov;
}

/**
 * ParCorr on raw vectors: the correlation of the residuals of `x` and `y` after least-squares
 * regression on `z` (each a vector of the same length n) plus an intercept, with the t test
 * (df = n - 2 - z.length). With no `z` this is Pearson's correlation.
 */
export function partialCorrelation(x: ArrayLike<number>, y: ArrayLike<number>, z: readonly ArrayLike<number>[] = []): ParCorrResult {
  const n = x.length;
  if (y.length !== n) throw new Error(`partialCorrelation: x has ${n} entries, y ${y.length}`);
  z.forEach((c, k) => {
    if (c.length !== n) throw new Error(`partialCorrelation: z[${k}] has ${c.length} entries, expected ${n}`);
  });
  const cov = crossProducts([x, y, ...z], n);
  return parCorrFromCov(
    cov,
    2 + z.length,
    0,
    1,
    z.map((_, k) => 2 + k),
    n,
    "partialCorrelation",
  );
}

// ---------------------------------------------------------------------------------------------
// Samples
// ---------------------------------------------------------------------------------------------

/** The window's series of the pooled units, float64 `[units, W, N]`, standardised per unit and node when asked. */
function windowSeries(panel: Panel, units: readonly number[], from: number, to: number, standardise: boolean): Float64Array {
  const N = panel.nodes;
  const W = to - from;
  const out = new Float64Array(units.length * W * N);
  units.forEach((u, q) => {
    for (let k = 0; k < N; k++) {
      const src = (t: number) => panel.values[(u * panel.steps + from + t) * N + k];
      let mean = 0;
      let sd = 1;
      if (standardise) {
        for (let t = 0; t < W; t++) mean += src(t);
        mean /= W;
        let ss = 0;
        for (let t = 0; t < W; t++) ss += (src(t) - mean) ** 2;
        sd = Math.sqrt(ss / W);
      }
      for (let t = 0; t < W; t++) out[(q * W + t) * N + k] = standardise ? (sd > 0 ? (src(t) - mean) / sd : 0) : src(t);
    }
  });
  return out;
}

/**
 * The centred cross-product matrix of the lagged variables x_k(t - s), s = 0..depth (variable
 * index s * N + k), over the rows (unit, t), t in [depth, W) of each unit's window.
 */
function laggedCrossProducts(series: Float64Array, units: number, W: number, N: number, depth: number): { cov: Float64Array; K: number; n: number } {
  const K = N * (depth + 1);
  const n = units * (W - depth);
  const mean = new Float64Array(K);
  const row = new Float64Array(K);
  const fill = (q: number, t: number) => {
    for (let s = 0; s <= depth; s++) {
      const base = (q * W + t - s) * N;
      for (let k = 0; k < N; k++) row[s * N + k] = series[base + k];
    }
  };
  for (let q = 0; q < units; q++) {
    for (let t = depth; t < W; t++) {
      fill(q, t);
      for (let a = 0; a < K; a++) mean[a] += row[a];
    }
  }
  for (let a = 0; a < K; a++) mean[a] /= n;
  const cov = new Float64Array(K * K);
  for (let q = 0; q < units; q++) {
    for (let t = depth; t < W; t++) {
      fill(q, t);
      for (let a = 0; a < K; a++) row[a] -= mean[a];
      for (let a = 0; a < K; a++) {
        const ra = row[a];
        const off = a * K;
        for (let b = a; b < K; b++) cov[off + b] += ra * row[b];
      }
    }
  }
  for (let a = 0; a < K; a++) for (let b = a + 1; b < K; b++) cov[b * K + a] = cov[a * K + b];
  return { cov, K, n };
}

// ---------------------------------------------------------------------------------------------
// The algorithm
// ---------------------------------------------------------------------------------------------

function resolveConfig(panel: Panel, input: PcmciInput): { config: PcmciConfig; from: number; to: number; units: number[] } {
  const config: PcmciConfig = { ...PCMCI_DEFAULTS, ...input };
  const N = panel.nodes;
  const fail = (detail: string): never => {
    throw new Error(`fitPcmci: ${detail}`);
  };
  if (!Number.isInteger(config.maxLag) || config.maxLag < 1) fail(`maxLag must be an integer >= 1, got ${config.maxLag}`);
  if (!(config.pcAlpha > 0 && config.pcAlpha <= 1)) fail(`pcAlpha must be in (0, 1], got ${config.pcAlpha}`);
  if (!(config.alpha > 0 && config.alpha < 1)) fail(`alpha must be in (0, 1), got ${config.alpha}`);
  for (const key of ["maxConds", "maxCondsPx"] as const) {
    const v = config[key];
    if (v !== null && (!Number.isInteger(v) || v < 0)) fail(`${key} must be null or an integer >= 0, got ${v}`);
  }
  if (config.correction !== "none" && config.correction !== "fdr-bh") fail(`correction must be "none" or "fdr-bh", got ${config.correction}`);
  if (panel.values.length !== panel.units * panel.steps * N)
    fail(`panel values have ${panel.values.length} entries, expected ${panel.units} x ${panel.steps} x ${N}`);
  const from = config.steps?.from ?? 0;
  const to = config.steps?.to ?? panel.steps;
  if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to > panel.steps || from >= to)
    fail(`steps [${from}, ${to}) is not a step range within 0..${panel.steps}`);
  if (to - from <= config.maxLag) fail(`the window has ${to - from} steps, not more than maxLag = ${config.maxLag}`);
  const units = config.units ? [...config.units] : Array.from({ length: panel.units }, (_, u) => u);
  if (units.length === 0) fail("no units selected");
  const seen = new Set<number>();
  for (const u of units) {
    if (!Number.isInteger(u) || u < 0 || u >= panel.units) fail(`unit index ${u} is out of range 0..${panel.units - 1}`);
    if (seen.has(u)) fail(`unit index ${u} appears twice`);
    seen.add(u);
  }
  if (config.roles) {
    if (config.roles.length !== N) fail(`${config.roles.length} roles for ${N} nodes`);
    config.roles = [...config.roles];
  }
  config.steps = { from, to };
  config.units = units;
  return { config, from, to, units };
}

/** PC1 for receiver i on the stage's cross products (variable index lag * N + node). */
function pc1(
  i: number,
  N: number,
  allowed: Graph,
  stage: { cov: Float64Array; K: number; n: number },
  config: PcmciConfig,
): { parents: PcmciParent[]; iterations: number; tests: number } {
  const L = config.maxLag;
  const cands: LaggedVariable[] = [];
  for (let k = 0; k < N; k++) if (k === i || allowed[k][i]) for (let s = 1; s <= L; s++) cands.push({ node: k, lag: s });
  const minAbs = new Float64Array(cands.length).fill(Infinity);
  const maxP = new Float64Array(cands.length);
  let remaining = cands.map((_, c) => c);
  let iterations = 0;
  let tests = 0;
  const v = (c: number) => cands[c].lag * N + cands[c].node;
  for (let p = 0; remaining.length > p && (config.maxConds === null || p <= config.maxConds); p++) {
    const ranked = remaining;
    const removed = new Set<number>();
    for (const c of ranked) {
      const cond: number[] = [];
      for (const o of ranked) {
        if (cond.length === p) break;
        if (o !== c) cond.push(v(o));
      }
      const res = parCorrFromCov(stage.cov, stage.K, v(c), i, cond, stage.n, "fitPcmci (PC1)");
      tests++;
      minAbs[c] = Math.min(minAbs[c], Math.abs(res.r));
      maxP[c] = Math.max(maxP[c], res.pValue);
      if (res.pValue > config.pcAlpha) removed.add(c);
    }
    remaining = ranked.filter((c) => !removed.has(c)).sort((a, b) => minAbs[b] - minAbs[a] || a - b);
    iterations++;
  }
  return { parents: remaining.map((c) => ({ ...cands[c], minAbsStatistic: minAbs[c], maxPValue: maxP[c] })), iterations, tests };
}

/** Benjamini-Hochberg adjusted p-values (same order as `p`). */
function benjaminiHochberg(p: readonly number[]): number[] {
  const m = p.length;
  const order = p.map((_, k) => k).sort((a, b) => p[a] - p[b] || a - b);
  const q = new Array<number>(m);
  let running = 1;
  for (let r = m - 1; r >= 0; r--) {
    running = Math.min(running, (p[order[r]] * m) / (r + 1));
    q[order[r]] = Math.min(1, running);
  }
  return q;
}

/**
 * PCMCI on a panel: PC1 condition selection per node, then the MCI test of every allowed pair and
 * lag; scores are max over lags of |MCI partial correlation|. From Runge et al., "Detecting and
 * quantifying causal associations in large nonlinear time series datasets", Science Advances
 * 2019. Pairwise lagged correlation is fooled by autocorrelation, indirect paths (a -> b -> c
 * reads as a -> c) and common drivers; PCMCI conditions on both the receiver's and the sender's
 * own past, so an edge has to carry information that neither node's other parents carry.
 *
 * Lagged variables are x_k(t - s), s = 0..; `G[j][i]` (sender j, receiver i) is the claim that
 * the past of j drives i. Only lags s >= 1 are tested (no contemporaneous links).
 *
 * 1. **PC1 condition selection**, per receiver i. Candidates: x_k(t - s) for every allowed sender
 *    k (always including i itself: own lags are conditioned on) and s = 1..maxLag. For
 *    p = 0, 1, 2, ... each remaining candidate c is tested against x_i(t) given the p strongest
 *    *other* remaining candidates (one conditioning set per candidate and iteration, the paper's
 *    PC1); c is removed when the p-value exceeds `pcAlpha`. Removals take effect after the
 *    iteration; the remaining candidates are then sorted by the smallest |partial correlation|
 *    they have shown in any test so far (strongest first, ties by node then lag). It stops when
 *    fewer than p + 1 candidates remain or p passes `maxConds`. The survivors, in that order,
 *    are the parents P(i).
 * 2. **MCI test**, for every allowed pair j -> i (j != i) and lag tau = 1..maxLag: the partial
 *    correlation of x_j(t - tau) and x_i(t) given P(i) without x_j(t - tau), and the first
 *    `maxCondsPx` parents of j shifted by tau (x_k(t - s - tau) for (k, s) in P(j); all of them by
 *    default). Duplicates in the union are conditioned on once.
 *
 * ParCorr: both variables are regressed by least squares on the conditioning set plus an
 * intercept and the residuals are correlated. It is computed from the centred covariance matrix
 * of all lagged variables of a stage (the normal equations, solved by core/linear-var's
 * `solveLinearSystem`), which gives the same residual correlation as regressing the rows. The
 * test is the exact t test of a partial correlation: t = r sqrt(df / (1 - r^2)),
 * df = n - 2 - |Z|, two-sided p from Student's t (regularised incomplete beta).
 *
 * Samples: pooled over units, every (unit, t) whose lags all lie in the step window of the same
 * unit (rows never cross unit boundaries). PC1 uses t in [from + maxLag, to); MCI uses
 * t in [from + maxLag + m, to) with m the largest lag among all selected parents (the shifted
 * parents of a sender reach back maxLag + m), one sample shared by all MCI tests so that their
 * statistics are comparable. With `standardise` (default), each node is standardised per unit
 * over the window first (mean 0, SD 1; a constant series becomes 0), so that units with other
 * scales and offsets do not dominate the pooled correlations.
 *
 * Edge score: `scores[j][i]` = max over tau of |MCI partial correlation| of j -> i (an effect
 * size on one shared sample; p-values underflow to ties at 0 for strong edges, which would blur
 * the ranking). The per-lag statistics and p-values, the best lag, the selected parents and a
 * support graph (some lag with p <= `alpha`, optionally after Benjamini-Hochberg over all MCI
 * tests) are reported too. With `roles`, edges into a channel and out of the target are ruled
 * out (as DICE Stage 1's role constraints): such senders are not PC1 candidates of the receiver
 * and the pair is neither tested nor scored (score 0, statistic 0, p-value 1).
 */
export function fitPcmci(panel: Panel, input: PcmciInput = {}): PcmciResult {
  const { config, from, to, units } = resolveConfig(panel, input);
  const N = panel.nodes;
  const L = config.maxLag;
  const W = to - from;
  const series = windowSeries(panel, units, from, to, config.standardise);
  const allowed = allowedPairs(N, config.roles);

  // PC1, one shared sample of rows t in [from + L, to).
  const pcStage = laggedCrossProducts(series, units.length, W, N, L);
  const pcs = Array.from({ length: N }, (_, i) => pc1(i, N, allowed, pcStage, config));
  const parents = pcs.map((r) => r.parents);

  // MCI, one shared sample deep enough for the sender's shifted parents.
  const pxOf = (j: number) => (config.maxCondsPx === null ? parents[j] : parents[j].slice(0, config.maxCondsPx));
  let extra = 0;
  for (let j = 0; j < N; j++) for (const q of pxOf(j)) extra = Math.max(extra, q.lag);
  const depth = L + extra;
  if (W <= depth) throw new Error(`fitPcmci: the window has ${W} steps; MCI needs more than maxLag + the largest parent lag = ${depth}`);
  const mci = laggedCrossProducts(series, units.length, W, N, depth);
  const zeros = () => Array.from({ length: N }, () => new Array<number>(N).fill(0));
  const statistic = Array.from({ length: N }, () => Array.from({ length: N }, () => new Array<number>(L).fill(0)));
  const pValue = Array.from({ length: N }, () => Array.from({ length: N }, () => new Array<number>(L).fill(1)));
  let mciTests = 0;
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < N; j++) {
      if (!allowed[j][i]) continue;
      for (let tau = 1; tau <= L; tau++) {
        const x = tau * N + j;
        const cond = new Set<number>();
        for (const q of parents[i]) if (q.lag * N + q.node !== x) cond.add(q.lag * N + q.node);
        for (const q of pxOf(j)) cond.add((q.lag + tau) * N + q.node);
        const res = parCorrFromCov(mci.cov, mci.K, x, i, [...cond], mci.n, "fitPcmci (MCI)");
        statistic[j][i][tau - 1] = res.r;
        pValue[j][i][tau - 1] = res.pValue;
        mciTests++;
      }
    }
  }

  // Multiple-testing correction over every MCI test (pairs j, i, lags in order).
  let adjustedPValue = pValue.map((row) => row.map((lags) => [...lags]));
  if (config.correction === "fdr-bh") {
    const flat: number[] = [];
    const idx: [number, number, number][] = [];
    for (let j = 0; j < N; j++)
      for (let i = 0; i < N; i++)
        if (allowed[j][i])
          for (let a = 0; a < L; a++) {
            flat.push(pValue[j][i][a]);
            idx.push([j, i, a]);
          }
    const q = benjaminiHochberg(flat);
    adjustedPValue = pValue.map((row) => row.map((lags) => lags.map(() => 1)));
    idx.forEach(([j, i, a], k) => (adjustedPValue[j][i][a] = q[k]));
  }

  const scores = zeros();
  const minPValue = Array.from({ length: N }, () => new Array<number>(N).fill(1));
  const bestLag = zeros();
  const support = zeros();
  for (let j = 0; j < N; j++) {
    for (let i = 0; i < N; i++) {
      if (!allowed[j][i]) continue;
      for (let a = 0; a < L; a++) {
        const s = Math.abs(statistic[j][i][a]);
        if (s > scores[j][i] || bestLag[j][i] === 0) {
          scores[j][i] = s;
          bestLag[j][i] = a + 1;
        }
        minPValue[j][i] = Math.min(minPValue[j][i], pValue[j][i][a]);
        if (adjustedPValue[j][i][a] <= config.alpha) support[j][i] = 1;
      }
    }
  }
  return {
    nodes: N,
    nodeNames: [...panel.nodeNames],
    maxLag: L,
    scores,
    statistic,
    pValue,
    adjustedPValue,
    minPValue,
    bestLag,
    support,
    allowed,
    parents,
    pc1: { iterations: pcs.map((r) => r.iterations), tests: pcs.reduce((s, r) => s + r.tests, 0) },
    mciTests,
    rows: { pc1: pcStage.n, mci: mci.n },
    steps: { from, to },
    units,
    config,
  };
}
