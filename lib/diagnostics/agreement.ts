/**
 * Influence agreement (STUDY.md, "Measures"): how a model's influence matrix (CIG, AR-CIG)
 * agrees with the true influence of the process that generated the panel
 * (lib/analysis/true-influence.ts) in magnitude as well as support, over all off-diagonal pairs
 * and on the target's column (the attribution to sales) — {@link influenceAgreement} — and the
 * target column of any influence matrix scored against a true graph ({@link scoreTargetColumn}).
 */
import type { Graph } from "../graph";
import type { InfluenceMatrix } from "./influence";
import { DEFAULT_INFLUENCE_SCORE } from "./influence";
import type { MeanRanking, RankingResult } from "./ranking";
import { meanRanking, rankingMetrics, snapTies, spearman } from "./ranking";

/** One agreement measure: its value, or NaN and why. */
export interface AgreementValue {
  value: number;
  /** Why `value` is NaN (absent when it is defined). */
  reason?: string;
}

/** Agreement over a set of pairs j -> i. */
export interface PairAgreement {
  /** Pairs compared. */
  pairs: number;
  /** Spearman rank correlation of the model's and the true values (average ranks for ties). */
  spearman: AgreementValue;
  /** sum |model - truth| / sum |truth|: 0 for exact agreement, 1 for a model that is 0 everywhere. */
  relativeError: AgreementValue;
}

/** Agreement on the target's column: the pairs j -> target, j != target. */
export interface TargetColumnAgreement extends PairAgreement {
  /** The target node. */
  target: number;
  /** nAUPRC of the model's column against the true graph's column (NaN without a graph, or when the column lacks edges or non-edges). */
  nauprc: AgreementValue;
  /** AUROC of the same ranking. */
  auroc: AgreementValue;
}

/** A model's influence against the true influence. */
export interface InfluenceAgreement {
  /** Every off-diagonal pair. */
  all: PairAgreement;
  /**
   * The pairs the true influence reaches (true value > 0): how the model ranks and sizes the
   * influence that exists. A graph-safe decoder given the true graph ranks the zero pairs of `all`
   * last by construction, which lifts its Spearman there; on these pairs its ranking is learned.
   */
  support: PairAgreement;
  target: TargetColumnAgreement;
}

/** How values are ranked. */
export interface AgreementConfig {
  /**
   * Values within `tieTolerance * max |value|` of each other (chained in sorted order) are tied
   * before ranking, model and truth separately, as in `scoreInfluence`: floating-point noise
   * between values equal in exact arithmetic is not a ranking. 0 disables it.
   */
  tieTolerance: number;
}

export const DEFAULT_AGREEMENT: AgreementConfig = { tieTolerance: DEFAULT_INFLUENCE_SCORE.tieTolerance };

type MatrixLike = number[][] | Pick<InfluenceMatrix, "values">;

const valuesOf = (m: MatrixLike): number[][] => (Array.isArray(m) ? m : m.values);

function checkSquare(m: number[][], n: number, what: string): void {
  if (m.length !== n || m.some((row) => row.length !== n)) throw new Error(`${what}: expected an ${n} x ${n} matrix`);
}

function checkTarget(target: number, n: number, what: string): void {
  if (!(Number.isInteger(target) && target >= 0 && target < n)) throw new Error(`${what}: target ${target} is not a node index in 0..${n - 1}`);
}

/** `v` with noise-level differences tied (tolerance relative to its largest |value|). */
function tied(v: readonly number[], tieTolerance: number): number[] {
  const scale = v.reduce((s, x) => Math.max(s, Math.abs(x)), 0);
  return snapTies(v, tieTolerance * scale);
}

const ok = (value: number): AgreementValue => ({ value });
const undefinedBecause = (reason: string): AgreementValue => ({ value: NaN, reason });

/** Spearman and relative error of paired values (labels name the pairs in reasons). */
function agreementOf(model: readonly number[], truth: readonly number[], labels: readonly string[], tieTolerance: number): PairAgreement {
  const pairs = model.length;
  const bad = (v: readonly number[], who: string): string | undefined => {
    const k = v.findIndex((x) => !Number.isFinite(x));
    return k < 0 ? undefined : `the ${who} value of ${labels[k]} is ${v[k]}`;
  };
  const nonFinite = bad(model, "model's") ?? bad(truth, "true");
  if (nonFinite) return { pairs, spearman: undefinedBecause(nonFinite), relativeError: undefinedBecause(nonFinite) };
  let rho: AgreementValue;
  if (pairs < 2) rho = undefinedBecause(`${pairs} pair(s): a rank correlation needs at least two`);
  else {
    const m = tied(model, tieTolerance);
    const t = tied(truth, tieTolerance);
    const constant = (v: number[]) => v.every((x) => x === v[0]);
    if (constant(m)) rho = undefinedBecause(`the model's influence is constant over the ${pairs} pairs: no ranking`);
    else if (constant(t)) rho = undefinedBecause(`the true influence is constant over the ${pairs} pairs: no ranking`);
    else rho = ok(spearman(m, t));
  }
  let num = 0;
  let den = 0;
  model.forEach((v, k) => {
    num += Math.abs(v - truth[k]);
    den += Math.abs(truth[k]);
  });
  const relativeError = den > 0 ? ok(num / den) : undefinedBecause(`the true influence is 0 on all ${pairs} pairs: no relative error`);
  return { pairs, spearman: rho, relativeError };
}

/** The off-diagonal entries of column `target` (pairs j -> target) and their senders. */
function column(m: number[][], target: number): { values: number[]; senders: number[] } {
  const senders = m.map((_, j) => j).filter((j) => j !== target);
  return { values: senders.map((j) => m[j][target]), senders };
}

/**
 * The agreement of a model's influence matrix with the true influence (`values[j][i]`, j -> i,
 * both N x N, e.g. a decoder's direct AR-CIG and `trueInfluence(...).direct`): over all
 * off-diagonal pairs, the Spearman rank correlation (average ranks for ties) and the relative
 * error sum |m - t| / sum |t|; the same on the pairs the true influence reaches (`support`); on
 * the target's column (pairs j -> target, j != target) the same,
 * and, when `trueGraph` is given, the nAUPRC and AUROC of the model's column against the graph's
 * column (`rankingMetrics`). A measure that is undefined (a constant vector, a truth that is 0
 * everywhere, a column without edges or without non-edges, a non-finite entry) is NaN with a
 * `reason`. The diagonal is never compared.
 */
export function influenceAgreement(
  model: MatrixLike,
  truth: MatrixLike,
  target: number,
  trueGraph?: Graph,
  config: Partial<AgreementConfig> = {},
): InfluenceAgreement {
  const what = "influenceAgreement";
  const c = { ...DEFAULT_AGREEMENT, ...config };
  const m = valuesOf(model);
  const t = valuesOf(truth);
  const N = t.length;
  checkSquare(t, N, `${what} (truth)`);
  checkSquare(m, N, `${what} (model)`);
  checkTarget(target, N, what);
  if (trueGraph) checkSquare(trueGraph, N, `${what} (true graph)`);
  const mv: number[] = [];
  const tv: number[] = [];
  const labels: string[] = [];
  for (let j = 0; j < N; j++)
    for (let i = 0; i < N; i++) {
      if (i === j) continue;
      mv.push(m[j][i]);
      tv.push(t[j][i]);
      labels.push(`${j} -> ${i}`);
    }
  const all = agreementOf(mv, tv, labels, c.tieTolerance);
  const reached = tv.map((v, k) => (v > 0 ? k : -1)).filter((k) => k >= 0);
  const support = agreementOf(
    reached.map((k) => mv[k]),
    reached.map((k) => tv[k]),
    reached.map((k) => labels[k]),
    c.tieTolerance,
  );
  const mc = column(m, target);
  const tc = column(t, target);
  const onColumn = agreementOf(
    mc.values,
    tc.values,
    mc.senders.map((j) => `${j} -> ${target}`),
    c.tieTolerance,
  );
  let nauprc = undefinedBecause("no true graph given");
  let auroc = nauprc;
  if (trueGraph) {
    const r = rankingMetrics(column(trueGraph, target).values, tied(mc.values, c.tieTolerance));
    nauprc = r.reason ? undefinedBecause(`target column: ${r.reason}`) : ok(r.nauprc);
    auroc = r.reason ? nauprc : ok(r.auroc);
  }
  return { all, support, target: { target, ...onColumn, nauprc, auroc } };
}

/** Scores of an influence matrix's target column against a true graph. */
export interface TargetColumnScore {
  target: number;
  /** Each evaluated unit's column against its own graph (an {@link InfluenceMatrix}'s `perUnit`; empty for a bare matrix). */
  perUnit: RankingResult[];
  /** The mean over units of `perUnit` (NaN units left out). */
  mean: MeanRanking;
  /** The unit-averaged matrix's column against the shared true graph; NaN with a reason when units have different graphs. */
  matrix: RankingResult;
  /** `matrix` when all units share one true graph, else the unit mean. */
  headline: { auroc: number; ap: number; nauprc: number; from: "matrix" | "unit-mean"; reason?: string };
}

/**
 * Scores the target's column of an influence matrix (the pairs j -> target, j != target: the
 * attribution to sales) against a true graph's column: AUROC, AP and nAUPRC (`rankingMetrics`,
 * values within `tieTolerance` of the column's largest |value| tied), for any decoder's CIG or
 * AR-CIG. With an {@link InfluenceMatrix}, each unit's matrix is also scored against its own
 * graph (`truth` one graph, or one per unit of the data indexed by unit index, as `unitGraphs`
 * returns) and the headline is the matrix's column when the units share one graph, else the unit
 * mean; a bare N x N matrix needs one shared graph. A column whose graph has no edge (or no
 * non-edge) is NaN with the reason.
 */
export function scoreTargetColumn(
  m: MatrixLike | InfluenceMatrix,
  truth: Graph | readonly Graph[],
  target: number,
  config: Partial<AgreementConfig> = {},
): TargetColumnScore {
  const what = "scoreTargetColumn";
  const c = { ...DEFAULT_AGREEMENT, ...config };
  const values = valuesOf(m);
  const N = values.length;
  checkSquare(values, N, what);
  checkTarget(target, N, what);
  const list = truth.length > 0 && Array.isArray((truth as Graph[])[0]?.[0]) ? (truth as readonly Graph[]) : undefined;
  const matrixOf = m as Partial<InfluenceMatrix>;
  const units = !Array.isArray(m) && matrixOf.perUnit && matrixOf.units ? matrixOf.units : [];
  const graphOf = (u: number): Graph => {
    const g = list ? list[u] : (truth as Graph);
    if (!g) throw new Error(`${what}: no true graph for unit ${u} (${list?.length ?? 0} graphs given)`);
    checkSquare(g, N, `${what} (true graph of unit ${u})`);
    return g;
  };
  const rank = (scores: number[][], g: Graph) => rankingMetrics(column(g, target).values, tied(column(scores, target).values, c.tieTolerance));
  const perUnit = units.map((u, k) => rank(matrixOf.perUnit![k], graphOf(u)));
  const graphs = list ? (units.length > 0 ? units : list.map((_, u) => u)).map(graphOf) : [graphOf(0)];
  const key = (g: Graph) => JSON.stringify(column(g, target).values);
  const shared = graphs.every((g) => key(g) === key(graphs[0]));
  const matrix: RankingResult = shared
    ? rank(values, graphs[0])
    : {
        auroc: NaN,
        ap: NaN,
        nauprc: NaN,
        prevalence: NaN,
        positives: 0,
        negatives: 0,
        reason: "units have different target columns in their true graphs: use the unit mean",
      };
  const mean = meanRanking(perUnit);
  const pick = shared ? { ...matrix, from: "matrix" as const } : { ...mean, from: "unit-mean" as const };
  const headline: TargetColumnScore["headline"] = { auroc: pick.auroc, ap: pick.ap, nauprc: pick.nauprc, from: pick.from };
  if (pick.reason !== undefined) headline.reason = pick.reason;
  return { target, perUnit, mean, matrix, headline };
}
