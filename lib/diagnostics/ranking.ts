/**
 * Ranking metrics for graph recovery: AUROC, average precision (AP) and nAUPRC, with the
 * conventions of scikit-learn's `roc_auc_score` and `average_precision_score` (binary labels, no
 * sample weights), ties included, so that the study's graph scores agree with scikit-learn's
 * (STUDY.md, "Measures"). {@link rankingMetrics} states the conventions; {@link scoreGraph} and
 * {@link scoreGraphs} score graphs (one, or one per unit).
 */
import type { Graph } from "../graph";
import { offDiagonal } from "../graph";
import type { Panel } from "../data/panel";

/** AUROC, AP and nAUPRC of one ranking. */
export interface RankingResult {
  /** Area under the ROC curve (scikit-learn `roc_auc_score`); NaN when undefined. */
  auroc: number;
  /** Average precision (scikit-learn `average_precision_score`); NaN when undefined. */
  ap: number;
  /** (AP - prevalence) / (1 - prevalence); NaN when undefined. */
  nauprc: number;
  /** Share of positive labels, p. */
  prevalence: number;
  /** Number of positive labels. */
  positives: number;
  /** Number of negative labels. */
  negatives: number;
  /** Why the metrics are NaN (absent when they are defined). */
  reason?: string;
}

/** The metrics averaged over units (units whose metrics are NaN are left out and counted). */
export interface MeanRanking {
  auroc: number;
  ap: number;
  nauprc: number;
  /** Mean prevalence over the units that were scored. */
  prevalence: number;
  /** Units with defined metrics, which enter the mean. */
  unitsScored: number;
  /** Units left out because their metrics are NaN (see their `reason`). */
  unitsSkipped: number;
  /** Why the mean is NaN (no unit could be scored). */
  reason?: string;
}

/** Per-unit, unit-averaged and pooled scores of a graph (or one graph per unit). */
export interface GraphScoreSet {
  /** One result per unit, against that unit's true graph. */
  perUnit: RankingResult[];
  /** Mean over units of the per-unit metrics (NaN units left out). */
  mean: MeanRanking;
  /** All units' off-diagonal entries pooled into one ranking. */
  pooled: RankingResult;
}

function undefinedResult(positives: number, negatives: number, reason: string): RankingResult {
  const n = positives + negatives;
  return { auroc: NaN, ap: NaN, nauprc: NaN, prevalence: n > 0 ? positives / n : NaN, positives, negatives, reason };
}

function asLabel(v: number | boolean, k: number, what: string): 0 | 1 {
  if (v === true || v === 1) return 1;
  if (v === false || v === 0) return 0;
  throw new Error(`${what}: label ${k} is ${v}; labels must be 0 or 1 (or booleans)`);
}

/**
 * AUROC, AP and nAUPRC of `scores` against binary `labels` (scikit-learn conventions, ties
 * included). Throws when the lengths differ or a label is not 0/1; returns NaN metrics with a
 * `reason` when a class is missing or a score is not finite.
 *
 * - scores are sorted in decreasing order and grouped by distinct value; each distinct value is
 *   one threshold, and all samples tied at it enter the curve together;
 * - AUROC is the trapezoid area under the ROC curve through those thresholds (starting at
 *   (0, 0)); a tie group between positives and negatives therefore counts one half, as in the
 *   average-rank (Mann-Whitney) formula;
 * - AP = sum over thresholds n of (R_n - R_{n-1}) * P_n, with R_0 = 0 (a step function, no
 *   interpolation), exactly as `average_precision_score` sums its precision-recall curve;
 * - nAUPRC = (AP - p) / (1 - p), p the share of positives: 0 for a random or constant score,
 *   1 for a perfect one, negative when worse than random.
 *
 * When one class is missing (no positive or no negative entry) scikit-learn raises or warns;
 * here every metric is NaN and `reason` says why. A constant score is *not* an error: it gives
 * AUROC 0.5 and AP = p, as in scikit-learn.
 */
export function rankingMetrics(labels: ArrayLike<number | boolean>, scores: ArrayLike<number>): RankingResult {
  const n = labels.length;
  if (scores.length !== n) throw new Error(`rankingMetrics: ${n} labels but ${scores.length} scores`);
  const y = new Uint8Array(n);
  let positives = 0;
  for (let k = 0; k < n; k++) {
    y[k] = asLabel(labels[k], k, "rankingMetrics");
    positives += y[k];
  }
  const negatives = n - positives;
  for (let k = 0; k < n; k++) {
    if (!Number.isFinite(scores[k])) return undefinedResult(positives, negatives, `score ${k} is ${scores[k]}: scores must be finite`);
  }
  if (n === 0) return undefinedResult(0, 0, "no entries to rank");
  if (positives === 0) return undefinedResult(positives, negatives, `no positive label among ${n} entries: AUROC and AP are undefined`);
  if (negatives === 0) return undefinedResult(positives, negatives, `no negative label among ${n} entries: AUROC and AP are undefined`);

  const order = Array.from({ length: n }, (_, k) => k).sort((a, b) => scores[b] - scores[a]);
  // Walk the distinct thresholds from the highest score down.
  let tp = 0;
  let fp = 0;
  let auc = 0; // in units of (true positive count) x (false positive count)
  let ap = 0; // sum of (delta true positives) * precision, divided by positives at the end
  let k = 0;
  while (k < n) {
    const s = scores[order[k]];
    let dtp = 0;
    let dfp = 0;
    while (k < n && scores[order[k]] === s) {
      if (y[order[k]]) dtp++;
      else dfp++;
      k++;
    }
    // Trapezoid between (fp, tp) and (fp + dfp, tp + dtp).
    auc += dfp * (tp + dtp / 2);
    tp += dtp;
    fp += dfp;
    if (dtp > 0) ap += dtp * (tp / (tp + fp));
  }
  const auroc = auc / (positives * negatives);
  const apValue = ap / positives;
  const prevalence = positives / n;
  return { auroc, ap: apValue, nauprc: (apValue - prevalence) / (1 - prevalence), prevalence, positives, negatives };
}

/** nAUPRC = (AP - p) / (1 - p); NaN when p is 0 or 1. */
export function nauprc(ap: number, prevalence: number): number {
  if (!(prevalence > 0 && prevalence < 1)) return NaN;
  return (ap - prevalence) / (1 - prevalence);
}

/** Throws unless `truth` is N x N with 0/1 off-diagonal entries and `scores` N x N with finite ones. */
function checkPair(scores: Graph, truth: Graph, what: string): void {
  const n = truth.length;
  if (scores.length !== n) throw new Error(`${what}: score matrix has ${scores.length} rows, true graph ${n}`);
  for (let j = 0; j < n; j++) {
    if (truth[j].length !== n) throw new Error(`${what}: true graph row ${j} has ${truth[j].length} entries, expected ${n}`);
    if (scores[j].length !== n) throw new Error(`${what}: score row ${j} has ${scores[j].length} entries, expected ${n}`);
    for (let i = 0; i < n; i++) {
      if (i !== j && truth[j][i] !== 0 && truth[j][i] !== 1) throw new Error(`${what}: true graph entry [${j}][${i}] is ${truth[j][i]}; it must be 0 or 1`);
    }
  }
}

/**
 * Scores an N x N score matrix (edge probabilities, influence...) against an N x N 0/1 true
 * graph over the off-diagonal entries, `scores[j][i]` ranking the claim j -> i. Graph scoring
 * uses the N(N-1) off-diagonal ordered pairs only (`G[j][i] = 1` means j -> i; the diagonal is
 * never part of a graph).
 */
export function scoreGraph(scores: Graph, truth: Graph): RankingResult {
  checkPair(scores, truth, "scoreGraph");
  return rankingMetrics(offDiagonal(truth), offDiagonal(scores));
}

/** The mean over units of per-unit metrics; units with NaN metrics are skipped and counted. */
export function meanRanking(results: readonly RankingResult[]): MeanRanking {
  const ok = results.filter((r) => Number.isFinite(r.auroc) && Number.isFinite(r.ap));
  const skipped = results.length - ok.length;
  if (ok.length === 0) {
    const why = results.length === 0 ? "no units" : `no unit could be scored (first reason: ${results[0].reason ?? "non-finite metrics"})`;
    return { auroc: NaN, ap: NaN, nauprc: NaN, prevalence: NaN, unitsScored: 0, unitsSkipped: skipped, reason: why };
  }
  const avg = (f: (r: RankingResult) => number) => ok.reduce((s, r) => s + f(r), 0) / ok.length;
  return {
    auroc: avg((r) => r.auroc),
    ap: avg((r) => r.ap),
    nauprc: avg((r) => r.nauprc),
    prevalence: avg((r) => r.prevalence),
    unitsScored: ok.length,
    unitsSkipped: skipped,
  };
}

function perUnitList(g: Graph | readonly Graph[], units: number, what: string): Graph[] {
  const isList = g.length > 0 && Array.isArray((g as Graph[])[0]?.[0]);
  if (!isList) return Array.from({ length: units }, () => g as Graph);
  const list = g as readonly Graph[];
  if (list.length !== units) throw new Error(`${what}: ${list.length} graphs for ${units} units`);
  return [...list];
}

/**
 * Scores per unit, averaged over units, and pooled. Graphs may differ per unit: every unit is
 * scored against its own true graph, the per-unit metrics are averaged, and all units' entries
 * are also scored pooled into one ranking (for a graph shared by all units with one score
 * matrix, the pooled score equals the single-graph score).
 * @param scores one N x N score matrix shared by all units, or one per unit.
 * @param truth one N x N 0/1 true graph shared by all units, or one per unit.
 * @param units number of units (needed when both arguments are single matrices; default: the
 *   length of whichever argument is a list, else 1).
 */
export function scoreGraphs(scores: Graph | readonly Graph[], truth: Graph | readonly Graph[], units?: number): GraphScoreSet {
  const isList = (g: Graph | readonly Graph[]) => g.length > 0 && Array.isArray((g as Graph[])[0]?.[0]);
  const R = units ?? (isList(scores) ? scores.length : isList(truth) ? truth.length : 1);
  const s = perUnitList(scores, R, "scoreGraphs (scores)");
  const t = perUnitList(truth, R, "scoreGraphs (truth)");
  const perUnit = s.map((sg, u) => {
    checkPair(sg, t[u], `scoreGraphs (unit ${u})`);
    return rankingMetrics(offDiagonal(t[u]), offDiagonal(sg));
  });
  const labels: number[] = [];
  const values: number[] = [];
  s.forEach((sg, u) => {
    labels.push(...offDiagonal(t[u]));
    values.push(...offDiagonal(sg));
  });
  return { perUnit, mean: meanRanking(perUnit), pooled: rankingMetrics(labels, values) };
}

/** The true graph of every unit of a panel (`graphs[graphOfUnit[u]]`); throws without truth. */
export function unitGraphs(panel: Pick<Panel, "truth" | "units">): Graph[] {
  if (!panel.truth) throw new Error("unitGraphs: the panel has no true graphs");
  const { graphs, graphOfUnit } = panel.truth;
  if (graphOfUnit.length !== panel.units) throw new Error(`unitGraphs: graphOfUnit has ${graphOfUnit.length} entries for ${panel.units} units`);
  return graphOfUnit.map((g) => graphs[g]);
}

/**
 * Replaces scores that differ from their lower neighbour (in sorted order) by at most
 * `tolerance` with that neighbour's value, so that floating-point noise between values that are
 * equal in exact arithmetic becomes a tie instead of a random ranking. Returns a copy.
 */
export function snapTies(values: readonly number[], tolerance: number): number[] {
  const out = [...values];
  if (!(tolerance > 0)) return out;
  const order = out
    .map((_, k) => k)
    .filter((k) => Number.isFinite(out[k]))
    .sort((a, b) => out[a] - out[b]);
  let anchor = NaN;
  let prev = NaN;
  for (const k of order) {
    const v = out[k];
    if (Number.isNaN(prev) || v - prev > tolerance) anchor = v;
    prev = v;
    out[k] = anchor;
  }
  return out;
}

/** Precision, recall and F1 of a 0/1 support against the truth (off-diagonal pairs), and its size. */
export interface SupportScore {
  precision: number;
  recall: number;
  f1: number;
  /** Selected edges. */
  edges: number;
  /** True edges. */
  trueEdges: number;
  /** Structural Hamming distance: pairs that differ. */
  shd: number;
}

/**
 * Scores 0/1 supports (one per unit, or one shared) against true graphs; the mean over units.
 * Precision is NaN for an empty support and recall NaN for an empty truth.
 */
export function scoreSupport(support: Graph | readonly Graph[], truth: Graph | readonly Graph[]): SupportScore {
  const many = (g: Graph | readonly Graph[]): g is readonly Graph[] => Array.isArray(g[0]?.[0]);
  const sup = many(support) ? support : [support];
  const tru = many(truth) ? truth : [truth];
  const units = Math.max(sup.length, tru.length);
  if ((sup.length !== 1 && sup.length !== units) || (tru.length !== 1 && tru.length !== units)) {
    throw new Error(`scoreSupport: ${sup.length} supports for ${tru.length} true graphs`);
  }
  const per = Array.from({ length: units }, (_, u) => {
    const s = sup[sup.length === 1 ? 0 : u];
    const t = tru[tru.length === 1 ? 0 : u];
    if (s.length !== t.length) throw new Error(`scoreSupport: unit ${u}: a ${s.length}-node support against a ${t.length}-node truth`);
    let tp = 0,
      fp = 0,
      fn = 0;
    s.forEach((row, j) =>
      row.forEach((v, i) => {
        if (i === j) return;
        const pred = v > 0.5,
          real = t[j][i] > 0.5;
        if (pred && real) tp++;
        else if (pred) fp++;
        else if (real) fn++;
      }),
    );
    const precision = tp + fp > 0 ? tp / (tp + fp) : NaN;
    const recall = tp + fn > 0 ? tp / (tp + fn) : NaN;
    const f1 = tp > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    return { precision, recall, f1, edges: tp + fp, trueEdges: tp + fn, shd: fp + fn };
  });
  const mean = (k: keyof SupportScore) => {
    const v = per.map((p) => p[k]).filter(Number.isFinite);
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN;
  };
  return { precision: mean("precision"), recall: mean("recall"), f1: mean("f1"), edges: mean("edges"), trueEdges: mean("trueEdges"), shd: mean("shd") };
}

const mean_ = (v: readonly number[]) => v.reduce((a, b) => a + b, 0) / v.length;

/** Spearman rank correlation (average ranks for ties). */
export function spearman(x: readonly number[], y: readonly number[]): number {
  const rank = (v: readonly number[]) => {
    const idx = v.map((_, i) => i).sort((a, b) => v[a] - v[b]);
    const r = new Array<number>(v.length);
    for (let k = 0; k < idx.length;) {
      let e = k;
      while (e + 1 < idx.length && v[idx[e + 1]] === v[idx[k]]) e++;
      for (let q = k; q <= e; q++) r[idx[q]] = (k + e) / 2;
      k = e + 1;
    }
    return r;
  };
  const rx = rank(x);
  const ry = rank(y);
  const mx = mean_(rx);
  const my = mean_(ry);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < rx.length; i++) {
    sxy += (rx[i] - mx) * (ry[i] - my);
    sxx += (rx[i] - mx) ** 2;
    syy += (ry[i] - my) ** 2;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : NaN;
}
