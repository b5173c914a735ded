/**
 * Forecast evidence for graph rankings, without a true graph: which of several candidate
 * rankings (DICE Stage 1 probabilities, Granger block norms, PCMCI scores...) is better supported
 * by held-out forecasts, and whether a ranking is distinguishable from a random one. The tool is a
 * held-out linear probe: add a ranking's edges one at a time to a pooled linear VAR and follow the
 * validation error ({@link forecastEvidenceCurve}); compare with random rankings
 * ({@link nullEvidence}) and between candidates ({@link compareRankings}). All of it runs from one
 * set of cross products ({@link probeData}), so a curve costs small solves and no pass over data.
 */
import type { Graph } from "../graph";
import { solveLinearSystem } from "../core/linear-var";
import { type Panel, type StepRange, at } from "../data/panel";
import { Rng } from "../rng";

/** The defaults of every option that has one. */
export interface EvidenceConfig {
  /** L, the lags of every regressor (the own node's and each parent's). */
  lags: number;
  /** Ridge added to the diagonal of each fit's Gram matrix, relative to its largest diagonal entry (solveLinearSystem's `ridge`). */
  ridge: number;
  /** Random rankings in the null. */
  draws: number;
  /** A candidate is distinguishable from random when its z >= zMin. */
  zMin: number;
  /** Two candidates are indistinguishable when their areas differ by less than margin x null SD. */
  margin: number;
}

export const EVIDENCE_DEFAULTS: EvidenceConfig = { lags: 4, ridge: 1e-6, draws: 20, zMin: 2, margin: 0.5 };

/** A half-open step range `[from, to)` (a panel `StepRange` from `splitTime` will do). */
export type StepWindow = Pick<StepRange, "from" | "to">;

/** What the probe is fitted and evaluated on. */
export interface ProbeOptions {
  /** L (default {@link EVIDENCE_DEFAULTS}.lags). */
  lags?: number;
  /** Training targets are the steps t in [from + L, to): every lag of a training row lies in the window. */
  train: StepWindow;
  /** Validation targets are the steps t in [from, to) (from >= L); their lags may reach back into the training window. Must not overlap `train`. */
  validation: StepWindow;
  /** Units pooled in the probe (default all). */
  units?: readonly number[];
  /** K, the length of every curve: at most this many edges are added (default: all allowed pairs). */
  maxEdges?: number;
  /** N x N 0/1 mask of the pairs that may be added, `allowed[j][i]` for j -> i (default every off-diagonal pair; the diagonal is ignored). */
  allowed?: Graph;
  /** Ridge (default {@link EVIDENCE_DEFAULTS}.ridge). */
  ridge?: number;
  /**
   * Blocked cross-validation (default 1: none). With F > 1 folds, the rows of train and
   * validation together (targets in [train.from + L, validation.to); validation must follow train)
   * are cut into F consecutive blocks of steps; each block is held out in turn and predicted by
   * the fit on the other blocks, every column centred by the unit's means over all those rows.
   * The relative error is the held-out squared error summed over folds, over the held-out rows,
   * over the within variance of the receiver. More held-out rows than one validation window, so
   * rankings that differ only in their weaker edges are told apart more reliably.
   */
  folds?: number;
  /**
   * The receivers whose held-out error the curve averages (default every node). Pairs into the
   * other nodes keep their place in a ranking but lower nothing, so a ranking that puts them
   * early lowers the curve later.
   */
  receivers?: readonly number[];
}

/** The null's options: the probe's, the number of random rankings and the seed of their generator. */
export interface NullOptions extends ProbeOptions {
  /** Random rankings (default {@link EVIDENCE_DEFAULTS}.draws, at least 2). */
  draws?: number;
  /** Seed of the `Rng` that draws the random permutations. */
  seed: number;
}

/** The comparison's options: the null's, and the two thresholds. */
export interface CompareOptions extends NullOptions {
  /** Default {@link EVIDENCE_DEFAULTS}.zMin. */
  zMin?: number;
  /** Default {@link EVIDENCE_DEFAULTS}.margin. */
  margin?: number;
}

/** An ordered pair j -> i. */
export interface EvidenceEdge {
  from: number;
  to: number;
}

/**
 * Everything the probe needs, computed once from the panel. Column c(j, s) = j * (L + 1) + s
 * holds x_j(t - s), s = 0..L (s = 0: the target itself). Cross products are of the columns
 * centred per unit by that unit's means over its training rows (the within estimator), for
 * training and validation rows alike.
 */
export interface ProbeData {
  nodes: number;
  lags: number;
  ridge: number;
  /** Q = N (L + 1), the columns. */
  columns: number;
  /**
   * One entry per fold: cross products [Q * Q] (both triangles) of the rows a fold is fitted on
   * and of the rows it predicts. Without cross-validation one fold: the training rows (centred by
   * their unit means) and the validation rows (centred by the same means).
   */
  folds: { fit: Float64Array; held: Float64Array; heldRows: number }[];
  trainRows: number;
  /** Held-out rows over all folds. */
  validationRows: number;
  /** [N]: within variance of each node over the rows the fits use (the training targets; with folds, all target rows of both windows). */
  variance: Float64Array;
  /** The allowed off-diagonal pairs, in the fixed order sender, then receiver (the tie order). */
  pairs: EvidenceEdge[];
  /** K = min(maxEdges, pairs.length). */
  maxEdges: number;
  /** The receivers the curve averages over, ascending. */
  receivers: number[];
  /** Relative validation MSE by receiver and parent set (`"i:j1,j2"`), filled as fits are made; a fit is a pure function of the key. */
  cache: Map<string, number>;
}

/** The held-out probe of one ranking. */
export interface EvidenceCurve {
  /** Length K + 1: curve[k] = mean over the probe's receivers of the relative validation MSE with the top-k pairs as parents; curve[0] = own lags only. */
  curve: number[];
  /** The K pairs added, in order. */
  order: EvidenceEdge[];
  /** Mean over k = 1..K of (curve[k] - curve[0]): lower is better; 0 when K = 0. */
  area: number;
  /** The smallest curve value and the first k where it is reached. */
  best: { edges: number; mse: number };
}

/** The areas of random rankings. */
export interface NullEvidence {
  areas: number[];
  mean: number;
  /** Sample SD (n - 1). */
  sd: number;
}

/** One candidate ranking judged against the null. */
export interface CandidateEvidence {
  name: string;
  area: number;
  best: { edges: number; mse: number };
  /** (null mean - area) / null SD: how many null SDs better than random; NaN when the null SD is 0. */
  z: number;
  /** z >= zMin. */
  distinguishable: boolean;
}

/** The verdict of {@link compareRankings}. */
export interface EvidenceComparison {
  candidates: CandidateEvidence[];
  /** The candidate with the lowest area (ties: the first in input order). */
  chosen: string;
  /** Pairs of candidates (a before b in input order) whose areas differ by less than margin x null SD. */
  indistinguishable: { a: string; b: string }[];
  null: NullEvidence;
}

// ---------------------------------------------------------------------------------------------
// The cross products
// ---------------------------------------------------------------------------------------------

const isInt = (v: unknown): v is number => Number.isInteger(v);

/** Throws unless `g` is N x N with finite entries (0/1 off the diagonal when `binary`). */
function checkMatrix(g: Graph, N: number, what: string, name: string, binary: boolean): void {
  if (!Array.isArray(g) || g.length !== N) throw new Error(`${what}: ${name} has ${Array.isArray(g) ? g.length : "no"} rows, expected ${N} (one per node)`);
  g.forEach((row, j) => {
    if (!Array.isArray(row) || row.length !== N) throw new Error(`${what}: ${name} row ${j} has ${row?.length} entries, expected ${N}`);
    row.forEach((v, i) => {
      if (i === j) return;
      if (!Number.isFinite(v)) throw new Error(`${what}: ${name}[${j}][${i}] is ${v}; entries must be finite`);
      if (binary && v !== 0 && v !== 1) throw new Error(`${what}: ${name}[${j}][${i}] is ${v}; the mask must be 0 or 1`);
    });
  });
}

/**
 * Builds the probe's cross products from a panel (one pass over the chosen units' rows per
 * window). Throws a one-line error for a bad window, lag count, unit list, mask or ridge, for too
 * few training rows (rows must exceed the largest fit, N L coefficients plus one intercept per
 * unit) and for a node that is constant over the training targets.
 */
export function probeData(panel: Panel, options: ProbeOptions): ProbeData {
  const what = "probeData";
  const L = options.lags ?? EVIDENCE_DEFAULTS.lags;
  const ridge = options.ridge ?? EVIDENCE_DEFAULTS.ridge;
  const { steps: T, nodes: N } = panel;
  const { train, validation } = options;
  const units = options.units ?? Array.from({ length: panel.units }, (_, u) => u);
  if (!isInt(L) || L < 1) throw new Error(`${what}: lags must be a positive integer, got ${L}`);
  if (!(ridge >= 0 && Number.isFinite(ridge))) throw new Error(`${what}: ridge must be a finite number >= 0, got ${ridge}`);
  for (const [name, w] of [
    ["train", train],
    ["validation", validation],
  ] as const) {
    if (!w || !isInt(w.from) || !isInt(w.to) || w.from < 0 || w.to > T || w.from >= w.to) {
      throw new Error(`${what}: ${name} range [${w?.from}, ${w?.to}) must be integers with 0 <= from < to <= ${T} (the panel's steps)`);
    }
  }
  if (train.to - train.from <= L) {
    throw new Error(
      `${what}: lags ${L} leave no training rows: train [${train.from}, ${train.to}) has ${train.to - train.from} steps, lags must be below that`,
    );
  }
  if (validation.from < L) throw new Error(`${what}: lags ${L} reach before step 0 from validation step ${validation.from}; validation.from must be >= lags`);
  if (validation.from < train.to && train.from < validation.to) {
    throw new Error(`${what}: validation [${validation.from}, ${validation.to}) overlaps train [${train.from}, ${train.to})`);
  }
  if (units.length === 0) throw new Error(`${what}: no units`);
  const seen = new Set<number>();
  for (const u of units) {
    if (!isInt(u) || u < 0 || u >= panel.units) throw new Error(`${what}: unit ${u} is not in 0..${panel.units - 1}`);
    if (seen.has(u)) throw new Error(`${what}: unit ${u} appears twice`);
    seen.add(u);
  }
  const allowed = options.allowed;
  if (allowed) checkMatrix(allowed, N, what, "allowed", true);
  const pairs: EvidenceEdge[] = [];
  for (let j = 0; j < N; j++) for (let i = 0; i < N; i++) if (i !== j && (!allowed || allowed[j][i] === 1)) pairs.push({ from: j, to: i });
  const maxEdges = options.maxEdges ?? pairs.length;
  if (!isInt(maxEdges) || maxEdges < 0) throw new Error(`${what}: maxEdges must be an integer >= 0, got ${maxEdges}`);
  const nt = train.to - train.from - L; // training rows per unit
  const nv = validation.to - validation.from;
  const trainRows = nt * units.length;
  if (trainRows <= N * L + units.length) {
    throw new Error(`${what}: ${trainRows} training rows for up to ${N * L} coefficients and ${units.length} unit intercepts; widen train or lower lags`);
  }

  const receivers = options.receivers ? [...new Set(options.receivers)].sort((a, b) => a - b) : Array.from({ length: N }, (_, i) => i);
  if (receivers.length === 0) throw new Error(`${what}: receivers is empty; the curve needs at least one receiver`);
  for (const i of receivers) if (!isInt(i) || i < 0 || i >= N) throw new Error(`${what}: receiver ${i} is not in 0..${N - 1}`);
  const F = options.folds ?? 1;
  if (!isInt(F) || F < 1) throw new Error(`${what}: folds must be a positive integer, got ${F}`);
  if (F > 1 && validation.from !== train.to) {
    throw new Error(
      `${what}: cross-validation (folds ${F}) needs validation [${validation.from}, ${validation.to}) to follow train [${train.from}, ${train.to})`,
    );
  }
  const Q = N * (L + 1);
  const mean = new Float64Array(Q);
  const z = new Float64Array(Q);
  const v = panel.values;
  const fill = (u: number, t: number) => {
    for (let j = 0; j < N; j++) for (let s = 0; s <= L; s++) z[j * (L + 1) + s] = v[at(panel, u, t - s, j)] - mean[j * (L + 1) + s];
  };
  const accumulate = (M: Float64Array) => {
    for (let a = 0; a < Q; a++) {
      const za = z[a];
      if (za === 0) continue;
      for (let b = 0; b <= a; b++) M[a * Q + b] += za * z[b];
    }
  };
  const symmetrise = (M: Float64Array) => {
    for (let a = 0; a < Q; a++) for (let b = 0; b < a; b++) M[b * Q + a] = M[a * Q + b];
  };
  const unitMeans = (u: number, from: number, to: number) => {
    mean.fill(0);
    for (let t = from; t < to; t++) for (let j = 0; j < N; j++) for (let s = 0; s <= L; s++) mean[j * (L + 1) + s] += v[at(panel, u, t - s, j)];
    for (let c = 0; c < Q; c++) mean[c] /= to - from;
  };
  let folds: ProbeData["folds"];
  let S: Float64Array; // the cross products the variance is read from, over `varianceRows` rows
  let varianceRows: number;
  if (F === 1) {
    S = new Float64Array(Q * Q);
    const V = new Float64Array(Q * Q);
    for (const u of units) {
      unitMeans(u, train.from + L, train.to);
      for (let t = train.from + L; t < train.to; t++) {
        fill(u, t);
        accumulate(S);
      }
      for (let t = validation.from; t < validation.to; t++) {
        fill(u, t);
        accumulate(V);
      }
    }
    symmetrise(S);
    symmetrise(V);
    folds = [{ fit: S, held: V, heldRows: nv * units.length }];
    varianceRows = trainRows;
  } else {
    const from = train.from + L;
    const to = validation.to;
    if (to - from < 2 * F) throw new Error(`${what}: ${to - from} steps of targets cannot make ${F} folds`);
    const edges = Array.from({ length: F + 1 }, (_, f) => from + Math.round(((to - from) * f) / F));
    const blocks = Array.from({ length: F }, () => new Float64Array(Q * Q));
    for (const u of units) {
      unitMeans(u, from, to);
      for (let f = 0; f < F; f++)
        for (let t = edges[f]; t < edges[f + 1]; t++) {
          fill(u, t);
          accumulate(blocks[f]);
        }
    }
    blocks.forEach(symmetrise);
    S = new Float64Array(Q * Q);
    for (const b of blocks) for (let k = 0; k < S.length; k++) S[k] += b[k];
    folds = blocks.map((held, f) => {
      const fit = new Float64Array(Q * Q);
      for (let k = 0; k < fit.length; k++) fit[k] = S[k] - held[k];
      return { fit, held, heldRows: (edges[f + 1] - edges[f]) * units.length };
    });
    varianceRows = (to - from) * units.length;
  }
  const variance = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    const c = i * (L + 1);
    variance[i] = S[c * Q + c] / varianceRows;
    if (!(variance[i] > 0))
      throw new Error(`${what}: node "${panel.nodeNames[i]}" is constant over the training targets of every unit; its relative error is undefined`);
  }
  return {
    nodes: N,
    lags: L,
    ridge,
    columns: Q,
    folds,
    trainRows,
    validationRows: folds.reduce((a, f) => a + f.heldRows, 0),
    variance,
    pairs,
    maxEdges: Math.min(maxEdges, pairs.length),
    receivers,
    cache: new Map(),
  };
}

// ---------------------------------------------------------------------------------------------
// One fit
// ---------------------------------------------------------------------------------------------

/**
 * Relative validation MSE of receiver i with the given parents: the pooled within-estimator OLS
 * (ridge as configured) of x_i(t) on the L lags of i and of each parent, fitted on the training
 * cross products; its validation MSE b'Sb - 2 b'r + c (over the validation rows, S, r, c the
 * validation cross products of the chosen columns, centred by training unit means) divided by
 * the training variance of x_i. Parents may come in any order; i itself and duplicates are
 * ignored. Cached in `probe.cache`.
 */
export function validationError(probe: ProbeData, receiver: number, parents: readonly number[]): number {
  const { nodes: N, lags: L, columns: Q } = probe;
  if (!isInt(receiver) || receiver < 0 || receiver >= N) throw new Error(`validationError: receiver ${receiver} is not in 0..${N - 1}`);
  for (const j of parents) if (!isInt(j) || j < 0 || j >= N) throw new Error(`validationError: parent ${j} is not in 0..${N - 1}`);
  const set = [...new Set([receiver, ...parents])].sort((a, b) => a - b);
  const key = `${receiver}:${set.join(",")}`;
  const hit = probe.cache.get(key);
  if (hit !== undefined) return hit;
  const cols: number[] = [];
  for (const j of set) for (let s = 1; s <= L; s++) cols.push(j * (L + 1) + s);
  const y = receiver * (L + 1);
  const p = cols.length;
  const A = new Float64Array(p * p);
  const rhs = new Float64Array(p);
  let sse = 0;
  for (const fold of probe.folds) {
    const M = fold.fit;
    for (let a = 0; a < p; a++) {
      for (let b = 0; b < p; b++) A[a * p + b] = M[cols[a] * Q + cols[b]];
      rhs[a] = M[cols[a] * Q + y];
    }
    const [beta] = solveLinearSystem(A, p, [rhs], { ridge: probe.ridge, what: "validationError" });
    const V = fold.held;
    let e = V[y * Q + y];
    for (let a = 0; a < p; a++) {
      const ba = beta[a];
      if (ba === 0) continue;
      e -= 2 * ba * V[cols[a] * Q + y];
      let q = 0;
      for (let b = 0; b < p; b++) q += V[cols[a] * Q + cols[b]] * beta[b];
      e += ba * q;
    }
    sse += Math.max(e, 0);
  }
  const rel = sse / probe.validationRows / probe.variance[receiver];
  probe.cache.set(key, rel);
  return rel;
}

// ---------------------------------------------------------------------------------------------
// Curves, the null and the comparison
// ---------------------------------------------------------------------------------------------

/** The curve of pairs added in this order (the first K), from the probe. */
function curveOfOrder(probe: ProbeData, order: readonly EvidenceEdge[]): EvidenceCurve {
  const N = probe.nodes;
  const counted = new Array<boolean>(N).fill(false);
  for (const i of probe.receivers) counted[i] = true;
  const parents: number[][] = Array.from({ length: N }, () => []);
  const err = Array.from({ length: N }, (_, i) => (counted[i] ? validationError(probe, i, []) : 0));
  let total = err.reduce((a, b) => a + b, 0);
  const R = probe.receivers.length;
  const curve = [total / R];
  for (const { from, to } of order) {
    if (counted[to]) {
      parents[to].push(from);
      const e = validationError(probe, to, parents[to]);
      total += e - err[to];
      err[to] = e;
    }
    curve.push(total / R);
  }
  const K = order.length;
  const area = K === 0 ? 0 : curve.slice(1).reduce((a, c) => a + (c - curve[0]), 0) / K;
  let best = 0;
  for (let k = 1; k <= K; k++) if (curve[k] < curve[best]) best = k;
  return { curve, order: order.map((e) => ({ ...e })), area, best: { edges: best, mse: curve[best] } };
}

/** The allowed pairs by descending score, ties in the fixed order (sender, then receiver); the first K. */
function rankPairs(probe: ProbeData, scores: Graph, what: string): EvidenceEdge[] {
  checkMatrix(scores, probe.nodes, what, "scores", false);
  const ranked = probe.pairs.map((e, k) => ({ e, k, s: scores[e.from][e.to] }));
  ranked.sort((a, b) => b.s - a.s || a.k - b.k);
  return ranked.slice(0, probe.maxEdges).map((r) => r.e);
}

/**
 * The held-out linear probe of a ranking, from precomputed cross products (see
 * {@link forecastEvidenceCurve} for the rule).
 */
export function probeCurve(probe: ProbeData, scores: Graph): EvidenceCurve {
  return curveOfOrder(probe, rankPairs(probe, scores, "probeCurve"));
}

/**
 * The held-out linear probe of a ranking `scores` (`scores[j][i]` ranks the claim j -> i; the
 * diagonal is ignored).
 *
 * Rule. The allowed off-diagonal pairs are sorted by descending score (ties: sender index, then
 * receiver index, so the order is deterministic); the graph at k is the top k pairs, k = 0..K.
 * For every receiver i, x_i(t) is regressed on its own L lags and the L lags of each of its
 * parents in the graph at k: pooled OLS over the units with one intercept per unit (the within
 * estimator: every column centred by the unit's means over its training rows), fitted on the
 * training rows, with a tiny relative ridge. Its mean squared error on the validation rows
 * (predicting with the training unit means, so nothing of the validation window is fitted),
 * divided by the training within variance of x_i so that nodes on every scale count alike, is
 * the receiver's relative error; curve[k] is the mean over the probe's receivers (every node unless `receivers` says otherwise). curve[0] is the own-lags
 * model.
 *
 * Reading. A ranking that puts true parents first lowers the held-out error with few edges; a
 * random ranking lowers it slowly (and every ranking ends at the same graph when K covers all
 * allowed pairs, where spurious parents cost a little through overfitting). The area, the mean
 * over k = 1..K of curve[k] - curve[0], summarises the whole ranking as AUROC does, but without a
 * true graph: lower (more negative) is better. `best` is the first k with the lowest curve value.
 *
 * Cost. Adding a pair changes one receiver's parents, so the curve takes K + N small solves on
 * sub-blocks of the cross products of {@link probeData} (fewer with the probe's cache).
 */
export function forecastEvidenceCurve(panel: Panel, scores: Graph, options: ProbeOptions): EvidenceCurve {
  const probe = probeData(panel, options);
  return curveOfOrder(probe, rankPairs(probe, scores, "forecastEvidenceCurve"));
}

/** Mean and sample SD (NaN SD for fewer than two values). */
function meanSd(v: readonly number[]): { mean: number; sd: number } {
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const sd = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)) : NaN;
  return { mean, sd };
}

/**
 * The areas of `draws` random rankings from precomputed cross products: each draw is a uniform
 * random permutation of the allowed pairs (Fisher-Yates with `Rng(seed)`, draws in sequence),
 * cut to the same K as every curve of the probe.
 */
export function probeNull(probe: ProbeData, options: { draws?: number; seed: number }): NullEvidence {
  const draws = options.draws ?? EVIDENCE_DEFAULTS.draws;
  if (!isInt(draws) || draws < 2) throw new Error(`nullEvidence: draws must be an integer >= 2, got ${draws}`);
  if (!Number.isFinite(options.seed)) throw new Error(`nullEvidence: seed must be a finite number, got ${options.seed}`);
  const rng = new Rng(options.seed);
  const areas: number[] = [];
  for (let d = 0; d < draws; d++) areas.push(curveOfOrder(probe, rng.shuffle([...probe.pairs]).slice(0, probe.maxEdges)).area);
  return { areas, ...meanSd(areas) };
}

/** The null of {@link forecastEvidenceCurve}: the areas of random rankings (see {@link probeNull}), their mean and sample SD. */
export function nullEvidence(panel: Panel, options: NullOptions): NullEvidence {
  return probeNull(probeData(panel, options), options);
}

/**
 * Judges candidate rankings by forecast evidence, on one probe and one null.
 *
 * - every candidate's area (see {@link forecastEvidenceCurve});
 * - z = (null mean - area) / null SD: how many null SDs the candidate beats random rankings by
 *   (NaN when the null SD is 0); `distinguishable` when z >= zMin (default 2);
 * - `chosen`: the candidate with the lowest area, ties to the first in input order;
 * - `indistinguishable`: every pair (a before b in input order) whose areas differ by less than
 *   margin (default 0.5) x null SD: the data do not tell them apart, whichever was chosen.
 *
 * How large z can be. The null SD is that of random permutations, so z is bounded by the
 * number of pairs much as AUROC's distance from 0.5 is: with 20 allowed pairs of which 6 matter
 * (5 nodes), a perfect ranking sits only about 3.5 null SDs from random (measured 3.4 to 3.8 in
 * the tests). Compare z between candidates on one panel, not across panels of different size;
 * the null's SD is itself estimated from `draws` rankings (about 15 % noise at 20 draws).
 *
 * Throws for no candidates, duplicate names, and whatever {@link probeData} rejects.
 */
export function compareRankings(panel: Panel, candidates: readonly { name: string; scores: Graph }[], options: CompareOptions): EvidenceComparison {
  const what = "compareRankings";
  const zMin = options.zMin ?? EVIDENCE_DEFAULTS.zMin;
  const margin = options.margin ?? EVIDENCE_DEFAULTS.margin;
  if (candidates.length === 0) throw new Error(`${what}: no candidates`);
  const names = new Set<string>();
  for (const c of candidates) {
    if (names.has(c.name)) throw new Error(`${what}: candidate name "${c.name}" appears twice`);
    names.add(c.name);
  }
  if (!Number.isFinite(zMin)) throw new Error(`${what}: zMin must be finite, got ${zMin}`);
  if (!(margin >= 0)) throw new Error(`${what}: margin must be >= 0, got ${margin}`);
  const probe = probeData(panel, options);
  const curves = candidates.map((c) => curveOfOrder(probe, rankPairs(probe, c.scores, `${what} (${c.name})`)));
  const nul = probeNull(probe, options);
  const judged = candidates.map((c, k): CandidateEvidence => {
    const z = nul.sd > 0 ? (nul.mean - curves[k].area) / nul.sd : NaN;
    return { name: c.name, area: curves[k].area, best: curves[k].best, z, distinguishable: z >= zMin };
  });
  let chosen = 0;
  judged.forEach((c, k) => {
    if (c.area < judged[chosen].area) chosen = k;
  });
  const indistinguishable: { a: string; b: string }[] = [];
  for (let a = 0; a < judged.length; a++) {
    for (let b = a + 1; b < judged.length; b++) {
      if (Math.abs(judged[a].area - judged[b].area) < margin * nul.sd) indistinguishable.push({ a: judged[a].name, b: judged[b].name });
    }
  }
  return { candidates: judged, chosen: judged[chosen].name, indistinguishable, null: nul };
}
