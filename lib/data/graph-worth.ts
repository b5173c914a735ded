/**
 * How much the true graph is worth to a forecast of a generated panel (STUDY.md, "Data": every
 * generated panel records the MSE@7 ratio of a linear own-past forecaster to a linear forecaster
 * on the true parents). {@link graphWorth} gives the record, {@link forecastMse} the target's
 * MSE@H of any of the linear forecasters it compares (own past, true parents, all nodes, non-parent
 * channels: the last two read the precondition of the bypass-prone benchmark, "Data" 7). The
 * least-squares pieces ({@link lagGram}, {@link fitLagRegression}) are shared with the evaluation
 * family's record (lib/data/family.ts).
 */
import { solveLinearSystem } from "../core/linear-var";
import { type Panel, applyScaler, fitScaler, nodeIndex, targetIndex } from "./panel";

// ---------------------------------------------------------------------------------------------
// Least squares on lags
// ---------------------------------------------------------------------------------------------

/** The normal equations of a regression of every node on an intercept and all nodes' lags (see {@link lagGram}). */
export interface LagGram {
  /** Columns: 0 the intercept, then 1 + j L + (s - 1) for x_j(t - s). */
  p: number;
  /** X'X [p * p], both triangles filled. */
  XtX: Float64Array;
  /** X'y of each node, [p] each. */
  XtY: Float64Array[];
}

/**
 * The Gram matrix X'X and every node's X'y of the regression of x(t) on an intercept and all
 * nodes' lags 1..L (column 0 the intercept, column 1 + j L + s - 1 for x_j(t - s)), pooled over
 * the series' steps L..Ttr-1. Each series is one unit's `[t * N + j]`.
 */
export function lagGram(series: readonly ArrayLike<number>[], L: number, Ttr: number, N: number): LagGram {
  const p = 1 + N * L;
  const XtX = new Float64Array(p * p);
  const XtY = Array.from({ length: N }, () => new Float64Array(p));
  const row = new Float64Array(p);
  for (const zu of series) {
    for (let t = L; t < Ttr; t++) {
      row[0] = 1;
      for (let j = 0; j < N; j++) for (let s = 1; s <= L; s++) row[1 + j * L + s - 1] = zu[(t - s) * N + j];
      for (let a = 0; a < p; a++) {
        const ra = row[a];
        for (let b = 0; b <= a; b++) XtX[a * p + b] += ra * row[b];
        for (let i = 0; i < N; i++) XtY[i][a] += ra * zu[t * N + i];
      }
    }
  }
  for (let a = 0; a < p; a++) for (let b = 0; b < a; b++) XtX[b * p + a] = XtX[a * p + b];
  return { p, XtX, XtY };
}

/**
 * The least-squares coefficients of node i on an intercept and the lags of `regs` (sub-blocks of
 * `g`, solved by lib/core/linear-var's solver with a 1e-10 ridge): `[b, then regressor r's lag s
 * at 1 + r L + s - 1]`. `what` starts the solver's error messages.
 */
export function fitLagRegression(g: LagGram, i: number, regs: readonly number[], L: number, what: string): Float64Array {
  const cols = [0, ...regs.flatMap((j) => Array.from({ length: L }, (_, s) => 1 + j * L + s))];
  const q = cols.length;
  const S = new Float64Array(q * q);
  cols.forEach((a, r) => cols.forEach((b, c) => (S[r * q + c] = g.XtX[a * g.p + b])));
  const rhs = Float64Array.from(cols, (a) => g.XtY[i][a]);
  return solveLinearSystem(S, q, [rhs], { ridge: 1e-10, singular: "zero", what })[0];
}

// ---------------------------------------------------------------------------------------------
// The forecasters and the record
// ---------------------------------------------------------------------------------------------

/** Windows and lags of the comparison. */
export interface GraphWorthOptions {
  /** L: lags of every regressor (own and others). */
  lags: number;
  /** H: steps of each rollout (MSE@H). */
  horizon: number;
  /** Share of the steps the standardisation and the fits use (the first ones). */
  trainShare: number;
  /** Share of the steps (the last ones) holding the forecast origins. */
  testShare: number;
  /** The forecast node (default: the panel's target). */
  node?: string;
}

export const GRAPH_WORTH_DEFAULTS: GraphWorthOptions = { lags: 3, horizon: 7, trainShare: 0.7, testShare: 0.2 };

/**
 * The regressors of a linear forecaster of node i, beside i's own L lags: none ("own-past"), i's
 * true parents in the unit's graph ("true-parents"), every other node ("all-nodes"), or the
 * channels that are not i's true parents ("non-parent-channels").
 */
export type ForecastRegressors = "own-past" | "true-parents" | "all-nodes" | "non-parent-channels";

/** Steps of the fit and the forecast origins (see {@link graphWorthWindows}). */
export interface GraphWorthWindows {
  /** Ttr: steps 0..Ttr-1 are standardised and fitted on. */
  trainSteps: number;
  /** Origins o = firstOrigin .. steps - H: each forecasts o .. o + H - 1. */
  firstOrigin: number;
  /** Origins per unit. */
  origins: number;
}

/** What {@link graphWorth} records (`panel.provenance.params.graphWorth` of every generated panel). */
export interface GraphWorth {
  node: string;
  lags: number;
  horizon: number;
  trainSteps: number;
  /** Forecast origins per unit. */
  origins: number;
  /** The node's MSE@H (standardised scale) under each forecaster. */
  ownPast: number;
  trueParents: number;
  allNodes: number;
  nonParentChannels: number;
  /** ownPast / trueParents: how much the true graph is worth to the forecast (about 1: nothing). */
  ratioOwnToParents: number;
  /** ownPast / allNodes: above 1 when the other nodes carry forecast signal. */
  ratioOwnToAll: number;
  /** ownPast / nonParentChannels: above 1 when channels that do not cause the node carry forecast signal. */
  ratioOwnToNonParentChannels: number;
}

/**
 * The windows of a comparison on `steps` steps: Ttr = round(trainShare T) training steps and the
 * origins in the last round(testShare T) steps whose H-step rollout stays in the panel; null when
 * the panel is too short (fewer than L + 2 training steps, no origin, or test steps overlapping
 * the training ones).
 */
export function graphWorthWindows(steps: number, options: Partial<GraphWorthOptions> = {}): GraphWorthWindows | null {
  const o = { ...GRAPH_WORTH_DEFAULTS, ...options };
  const trainSteps = Math.round(steps * o.trainShare);
  const firstOrigin = steps - Math.round(steps * o.testShare);
  const origins = steps - o.horizon - firstOrigin + 1;
  if (trainSteps < o.lags + 2 || firstOrigin < trainSteps || origins < 1) return null;
  return { trainSteps, firstOrigin, origins };
}

function checkOptions(o: GraphWorthOptions, what: string): void {
  if (!(Number.isInteger(o.lags) && o.lags >= 1)) throw new Error(`${what}: lags must be a positive integer, got ${o.lags}`);
  if (!(Number.isInteger(o.horizon) && o.horizon >= 1)) throw new Error(`${what}: horizon must be a positive integer, got ${o.horizon}`);
  const shares = o.trainShare > 0 && o.testShare > 0 && o.trainShare + o.testShare <= 1;
  if (!shares) throw new Error(`${what}: trainShare and testShare must be positive with trainShare + testShare <= 1`);
}

/**
 * The MSE@H of node i (default the target) under linear forecasters with the given regressor
 * sets, in the order given.
 *
 * Every node is standardised by its training-window mean and SD, pooled over units (a "node"
 * scaler fitted on steps 0..Ttr-1, lib/data/panel's `fitScaler`). Per true graph, pooled over the
 * units that have it, node i is fitted by least squares on the training steps:
 *
 *     z_i(t) = b + sum_{j in S} sum_{s=1..L} B[j, s] z_j(t - s) + r(t),   t = L..Ttr-1
 *
 * with S = {i} plus the set's regressors ({@link ForecastRegressors}). From every origin o of
 * the last `testShare` of the steps (history observed up to o - 1) the model is rolled out H
 * steps: i's own lags inside the rollout are the model's own predictions fed back; the other
 * regressors are fed their **observed** series (their future included), so the comparison is
 * of forecasts conditional on the senders' paths (a known spend plan; for other nodes, an
 * oracle of their paths), and the forecasters differ only in what they read. MSE@H is the mean
 * squared error of i over the H steps, the origins and all units, on the standardised scale.
 */
export function forecastMse(panel: Panel, regressors: readonly ForecastRegressors[], options: Partial<GraphWorthOptions> = {}): number[] {
  const what = "forecastMse";
  const o = { ...GRAPH_WORTH_DEFAULTS, ...options };
  checkOptions(o, what);
  if (!panel.truth) throw new Error(`${what}: the panel has no true graphs`);
  const { units: R, steps: T, nodes: N } = panel;
  const L = o.lags;
  const H = o.horizon;
  const win = graphWorthWindows(T, o);
  if (!win)
    throw new Error(`${what}: ${T} steps are too few for ${L} lags, a ${o.trainShare} training share and ${H}-step rollouts in the last ${o.testShare}`);
  const i = o.node === undefined ? targetIndex(panel) : nodeIndex(panel, o.node);
  const z = applyScaler(panel, fitScaler(panel, { steps: { from: 0, to: win.trainSteps }, scope: "node" })).values;
  const unitSeries = (u: number) => z.subarray(u * T * N, (u + 1) * T * N);
  const { graphs, graphOfUnit } = panel.truth;
  const others = Array.from({ length: N }, (_, j) => j).filter((j) => j !== i);
  const sse = regressors.map(() => 0);
  let count = 0;
  const pred = new Float64Array(H);
  graphs.forEach((G, g) => {
    const units = Array.from({ length: R }, (_, u) => u).filter((u) => graphOfUnit[u] === g);
    if (units.length === 0) return;
    const series = units.map(unitSeries);
    const gram = lagGram(series, L, win.trainSteps, N);
    const sets: Record<ForecastRegressors, number[]> = {
      "own-past": [],
      "true-parents": others.filter((j) => G[j][i]),
      "all-nodes": others,
      "non-parent-channels": others.filter((j) => !G[j][i] && panel.roles[j] === "channel"),
    };
    regressors.forEach((set, k) => {
      const regs = [i, ...sets[set]];
      const b = fitLagRegression(gram, i, regs, L, what);
      for (const zu of series) {
        for (let t0 = win.firstOrigin; t0 + H <= T; t0++) {
          for (let h = 0; h < H; h++) {
            const t = t0 + h;
            let y = b[0];
            for (let r = 0; r < regs.length; r++) {
              const j = regs[r];
              for (let s = 1; s <= L; s++) y += b[1 + r * L + s - 1] * (j === i && t - s >= t0 ? pred[t - s - t0] : zu[(t - s) * N + j]);
            }
            pred[h] = y;
            sse[k] += (y - zu[t * N + i]) ** 2;
          }
          if (k === 0) count += H;
        }
      }
    });
  });
  return sse.map((s) => s / count);
}

/**
 * The graph-worth record of a panel with true graphs: node i's (default the target's) MSE@H
 * under the linear own-past forecaster, the forecaster on its true parents, on all other nodes
 * and on the channels that are not its parents, and the ratios of the own-past MSE to the others
 * (see {@link forecastMse} for the standardisation, the fits and the rollouts: the senders are
 * fed their observed paths). A ratio about 1: that information adds nothing to i's own past; above
 * 1: it improves the forecast. Throws when the panel is too short ({@link graphWorthWindows}).
 */
export function graphWorth(panel: Panel, options: Partial<GraphWorthOptions> = {}): GraphWorth {
  const o = { ...GRAPH_WORTH_DEFAULTS, ...options };
  const [ownPast, trueParents, allNodes, nonParentChannels] = forecastMse(panel, ["own-past", "true-parents", "all-nodes", "non-parent-channels"], o);
  const win = graphWorthWindows(panel.steps, o)!;
  return {
    node: o.node ?? panel.nodeNames[targetIndex(panel)],
    lags: o.lags,
    horizon: o.horizon,
    trainSteps: win.trainSteps,
    origins: win.origins,
    ownPast,
    trueParents,
    allNodes,
    nonParentChannels,
    ratioOwnToParents: ownPast / trueParents,
    ratioOwnToAll: ownPast / allNodes,
    ratioOwnToNonParentChannels: ownPast / nonParentChannels,
  };
}

/** A panel's recorded graph-worth ratios in one line (null: the panel records none). */
export function describeGraphWorth(panel: Pick<Panel, "provenance">): string | null {
  const gw = (panel.provenance?.params as { graphWorth?: GraphWorth | null } | undefined)?.graphWorth;
  if (!gw) return null;
  const f = (x: number) => x.toFixed(3);
  return (
    `${gw.node} MSE@${gw.horizon} of linear forecasters: own past ${f(gw.ownPast)}, + true parents ${f(gw.trueParents)}, + all nodes ${f(gw.allNodes)}, ` +
    `+ non-parent channels ${f(gw.nonParentChannels)}; own past / true parents ${f(gw.ratioOwnToParents)}, own past / non-parent channels ${f(gw.ratioOwnToNonParentChannels)}`
  );
}
