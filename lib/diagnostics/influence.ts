/**
 * Counterfactual influence of node j on node i inside a forecaster (STUDY.md, "Measures"): CIG
 * ({@link cig}, teacher-forced), AR-CIG ({@link arCig}, in a rollout, direct and total) and their
 * scoring against a true graph ({@link scoreInfluence}). They show whether a decoder's
 * sensitivity flows through the graph it reports, which forecasting accuracy cannot show.
 * {@link InfluenceConfig} gives delta, the result layout, the cost and the determinism required.
 */
import { tf } from "../tf";
import type { Graph } from "../graph";
import { offDiagonal, transitiveClosure } from "../graph";
import type { Forecaster, RolloutFeed, StateContinuation } from "../core/forecaster";
import type { GraphScoreSet, RankingResult } from "./ranking";
import { meanRanking, rankingMetrics, snapTies } from "./ranking";
import type { SeriesData, WindowConfig, WindowPlan } from "./windows";
import { DEFAULT_WINDOWS, batchInputs, checkData, copyHistory, forChunks, planWindows, readAndDispose } from "./windows";

/**
 * Influence configuration (window settings plus perturbation and horizon).
 *
 * The forecaster must be deterministic in evaluation (no dropout, no sampled graph): a perturbed
 * and an unperturbed call are compared row by row, so any randomness would count as influence.
 *
 * delta is one training SD per node, passed in as an array (default: ones, the SD of a series
 * standardised on its training window). Results are N x N matrices `values[j][i]` (j -> i) with
 * the diagonal computed but never scored, plus one matrix per unit for multi-graph scoring.
 *
 * Cost: every (unit, origin, perturbation) is one batch row; CIG is one `predictOneStep` batch of
 * `windows * (1 + N)` rows, AR-CIG one baseline rollout of `windows` rows plus one of
 * `windows * N` rows (total) and one of `windows * N * N` rows (direct, pairs j, i), each cut into
 * chunks of `chunkRows` rows. Within a chunk everything runs in `tf.tidy`; no tensor outlives a call.
 */
export interface InfluenceConfig extends WindowConfig {
  /** Perturbation size per node (one training SD of each node); default ones. */
  delta?: number[];
  /** AR-CIG rollout horizon H. */
  horizon: number;
  /** Which AR-CIG variants to compute. */
  modes: ReadonlyArray<"direct" | "total">;
}

export const DEFAULT_INFLUENCE: InfluenceConfig = { ...DEFAULT_WINDOWS, horizon: 7, modes: ["direct", "total"] };

export type InfluenceKind = "cig" | "ar-cig-direct" | "ar-cig-total";

/** An influence matrix, `values[j][i]` the influence of j on i. */
export interface InfluenceMatrix {
  kind: InfluenceKind;
  /** N x N, mean over units (diagonal computed, never scored). */
  values: number[][];
  /** One N x N matrix per evaluated unit (order of `units`), mean over that unit's origins. */
  perUnit: number[][][];
  /** Units evaluated (indices into the data). */
  units: number[];
  /** Origins used (absolute steps of the first prediction). */
  origins: number[];
  /** History length fed before each origin. */
  history: number;
  /** Steps averaged: 1 for CIG, H for AR-CIG. */
  horizon: number;
  /** Perturbation per node. */
  delta: number[];
}

/** Direct and total AR-CIG. */
export interface ArCigResult {
  direct?: InfluenceMatrix;
  total?: InfluenceMatrix;
}

/** The perturbation per node (default ones), checked: one positive finite value per node. */
export function resolveDelta(delta: number[] | undefined, N: number, what: string): number[] {
  const d = delta ?? new Array<number>(N).fill(1);
  if (d.length !== N) throw new Error(`${what}: delta has ${d.length} entries, expected one per node (${N})`);
  d.forEach((v, j) => {
    if (!(Number.isFinite(v) && v > 0)) throw new Error(`${what}: delta[${j}] = ${v}; it must be a positive finite number (one training SD)`);
  });
  return d;
}

/** Accumulates |change| / delta per (unit, j, i) and turns it into matrices (a forecaster's influence, or the generator's). */
export class InfluenceAccumulator {
  readonly sums: Float64Array;
  constructor(
    readonly nUnits: number,
    readonly N: number,
  ) {
    this.sums = new Float64Array(nUnits * N * N);
  }
  add(ui: number, j: number, i: number, v: number): void {
    this.sums[(ui * this.N + j) * this.N + i] += v;
  }
  /** The matrices: per unit, the mean over the unit's origins; overall, the mean over units. */
  result(kind: InfluenceKind, plan: WindowPlan, horizon: number, delta: number[]): InfluenceMatrix {
    const N = this.N;
    const perWindowCount = plan.origins.length;
    const perUnit = Array.from({ length: this.nUnits }, (_, ui) =>
      Array.from({ length: N }, (_, j) => Array.from({ length: N }, (_, i) => this.sums[(ui * N + j) * N + i] / perWindowCount)),
    );
    const values = Array.from({ length: N }, (_, j) => Array.from({ length: N }, (_, i) => perUnit.reduce((s, m) => s + m[j][i], 0) / this.nUnits));
    return { kind, values, perUnit, units: plan.units, origins: plan.origins, history: plan.history, horizon, delta };
  }
}

/**
 * Fills the history of window w (unit-major over the plan) into `xv` at row `row`, adding
 * `delta[j]` to node `j` at the last step (j < 0: none).
 */
type RowFiller = (w: number, j: number, xv: Float32Array, row: number) => void;

/** The {@link RowFiller} of a plan's windows over the data, with perturbations `delta`. */
function rowFiller(data: SeriesData, plan: WindowPlan, delta: number[]): RowFiller {
  return (w, j, xv, row) => {
    const N = data.nodes;
    const O = plan.origins.length;
    const u = plan.units[Math.floor(w / O)];
    const off = row * plan.history * N;
    copyHistory(data, { unit: u, origin: plan.origins[w % O], history: plan.history }, xv, off);
    if (j >= 0) xv[off + (plan.history - 1) * N + j] += delta[j];
  };
}

function rowUnitOf(plan: WindowPlan, w: number): number {
  return plan.units[Math.floor(w / plan.origins.length)];
}

/**
 * CIG: teacher-forced counterfactual influence graph. For every window (unit, origin o) the
 * history `[o - history, o)` is fed, delta_j is added to j's input at the last history step
 * o - 1, and `CIG[j][i] = mean over windows and units of |change of the one-step prediction of i
 * at o| / delta_j`.
 * data: values [units, steps, nodes], already scaled; the forecaster's `predictOneStep` is called
 * on x: [rows, history, nodes] with rows = windows * (1 + N), chunked.
 */
export function cig(forecaster: Forecaster, data: SeriesData, config: Partial<InfluenceConfig> = {}): InfluenceMatrix {
  const c: InfluenceConfig = { ...DEFAULT_INFLUENCE, ...config };
  const what = "cig";
  checkData(data, forecaster.nodes, what);
  const N = data.nodes;
  const delta = resolveDelta(c.delta, N, what);
  const plan = planWindows(data, c, { minHistory: forecaster.minHistory, what });
  const W = plan.units.length * plan.origins.length;
  const hist = plan.history;
  // Row layout: group g = 0 baseline, g = 1 + j perturbs j; row = g * W + w.
  const base = new Float32Array(W * N);
  const acc = new InfluenceAccumulator(plan.units.length, N);
  const fill = rowFiller(data, plan, delta);
  const total = W * (1 + N);
  forChunks(total, c.chunkRows, (start, end) => {
    const B = end - start;
    const xv = new Float32Array(B * hist * N);
    const rowUnits = new Int32Array(B);
    for (let r = start; r < end; r++) {
      const g = Math.floor(r / W);
      const w = r % W;
      fill(w, g - 1, xv, r - start);
      rowUnits[r - start] = rowUnitOf(plan, w);
    }
    const pred = readAndDispose(
      tf.tidy(() => {
        const x = tf.tensor3d(xv, [B, hist, N]);
        const out = forecaster.predictOneStep(x, batchInputs(data, c.graph, rowUnits, forecaster.acceptsGraph));
        if (out.shape[0] !== B || out.shape[1] !== hist || out.shape[2] !== N) {
          throw new Error(`${what}: predictOneStep returned shape [${out.shape}], expected [${B}, ${hist}, ${N}]`);
        }
        return out.slice([0, hist - 1, 0], [B, 1, N]);
      }),
    );
    for (let r = start; r < end; r++) {
      const g = Math.floor(r / W);
      const w = r % W;
      const p = pred.subarray((r - start) * N, (r - start + 1) * N);
      if (g === 0) {
        base.set(p, w * N);
        continue;
      }
      // Baseline rows (g = 0) come first in row order, so they are complete here.
      const j = g - 1;
      const ui = Math.floor(w / plan.origins.length);
      for (let i = 0; i < N; i++) acc.add(ui, j, i, Math.abs(p[i] - base[w * N + i]) / delta[j]);
    }
  });
  return acc.result("cig", plan, 1, delta);
}

/** What the AR-CIG rollouts share: the forecaster, the data, the windows and the perturbations. */
interface ArCigContext {
  forecaster: Forecaster;
  data: SeriesData;
  c: InfluenceConfig;
  plan: WindowPlan;
  delta: number[];
  fill: RowFiller;
  what: string;
  /**
   * With a {@link StateContinuation} and a history of at least 2 steps: every window's state after
   * its history but the last step (the one perturbed), [W rows on the continuation's rows axis],
   * so that each row rolls out from its window's state over 1 + H steps instead of history + H.
   */
  prefix?: { states: tf.Tensor; continuation: StateContinuation };
}

/** What a chunk of AR-CIG rows writes: histories, units and windows, and optionally the rollout feed and the state clamp. */
interface RowWriters {
  fill: (xv: Float32Array, rowUnits: Int32Array, rowWindows: Int32Array) => void;
  /** Feed values and mask, [B, H, N] each. */
  feed?: (fv: Float32Array, mv: Float32Array) => void;
  /** Unperturbed histories [B, history, N] and clamped nodes [B, N] (forecasters with `clampsStates`). */
  clamp?: (bv: Float32Array, cv: Float32Array) => void;
}

/** Rolls out B rows written by `writers`; returns the predictions [B, H, N]. */
function rolloutRows(ctx: ArCigContext, B: number, writers: RowWriters): Float32Array {
  const { fill, feed, clamp } = writers;
  const { forecaster, data, c, what } = ctx;
  const N = data.nodes;
  const H = c.horizon;
  const hist = ctx.plan.history;
  const xv = new Float32Array(B * hist * N);
  const rowUnits = new Int32Array(B);
  const rowWindows = new Int32Array(B);
  fill(xv, rowUnits, rowWindows);
  let fv: Float32Array | undefined;
  let mv: Float32Array | undefined;
  if (feed) {
    fv = new Float32Array(B * H * N);
    mv = new Float32Array(B * H * N);
    feed(fv, mv);
  }
  let bv: Float32Array | undefined;
  let cv: Float32Array | undefined;
  if (clamp) {
    bv = new Float32Array(B * hist * N);
    cv = new Float32Array(B * N);
    clamp(bv, cv);
  }
  return readAndDispose(
    tf.tidy(() => {
      const prefix = ctx.prefix;
      // from the window's state, only the last history step (the perturbed one) is fed
      const last = (v: Float32Array) => {
        const t = tf.tensor3d(v, [B, hist, N]);
        return prefix ? (t.slice([0, hist - 1, 0], [B, 1, N]) as tf.Tensor3D) : t;
      };
      const x = last(xv);
      const inputs: ReturnType<typeof batchInputs> & { feed?: RolloutFeed } = batchInputs(data, c.graph, rowUnits, forecaster.acceptsGraph);
      if (fv && mv) {
        const stateClamp = bv && cv ? { baseline: last(bv), nodes: tf.tensor2d(cv, [B, N]) } : undefined;
        inputs.feed = { values: tf.tensor3d(fv, [B, H, N]), mask: tf.tensor3d(mv, [B, H, N]), ...(stateClamp ? { clamp: stateClamp } : {}) };
      }
      const out = prefix
        ? prefix.continuation.rolloutFrom(tf.gather(prefix.states, tf.tensor1d(rowWindows, "int32"), prefix.continuation.rowsAxis), x, H, inputs)
        : forecaster.rollout(x, H, inputs);
      if (out.shape[0] !== B || out.shape[1] !== H || out.shape[2] !== N) {
        throw new Error(`${what}: rollout returned shape [${out.shape}], expected [${B}, ${H}, ${N}]`);
      }
      return out;
    }),
  );
}

/** Every window's state after its history but the last step, W rows on the continuation's rows axis (the caller disposes it). */
function prefixStates(ctx: ArCigContext, continuation: StateContinuation): tf.Tensor {
  const { plan, data, c, forecaster } = ctx;
  const N = data.nodes;
  const hist = plan.history;
  const W = plan.units.length * plan.origins.length;
  const parts: tf.Tensor[] = [];
  forChunks(W, c.chunkRows, (start, end) => {
    const B = end - start;
    const xv = new Float32Array(B * hist * N);
    const rowUnits = new Int32Array(B);
    for (let w = start; w < end; w++) {
      ctx.fill(w, -1, xv, w - start);
      rowUnits[w - start] = rowUnitOf(plan, w);
    }
    parts.push(
      tf.tidy(() => {
        const x = tf.tensor3d(xv, [B, hist, N]).slice([0, 0, 0], [B, hist - 1, N]) as tf.Tensor3D;
        return continuation.encode(x, batchInputs(data, c.graph, rowUnits, forecaster.acceptsGraph));
      }),
    );
  });
  const states = parts.length === 1 ? parts[0] : tf.concat(parts, continuation.rowsAxis);
  if (parts.length > 1) tf.dispose(parts);
  return states;
}

/** The unperturbed rollout of every window: `base[(w * H + h) * N + i]`. */
function baselineRollouts(ctx: ArCigContext): Float32Array {
  const { plan, c } = ctx;
  const N = ctx.data.nodes;
  const H = c.horizon;
  const W = plan.units.length * plan.origins.length;
  const base = new Float32Array(W * H * N);
  forChunks(W, c.chunkRows, (start, end) => {
    const pred = rolloutRows(ctx, end - start, {
      fill: (xv, ru, rw) => {
        for (let w = start; w < end; w++) {
          ctx.fill(w, -1, xv, w - start);
          ru[w - start] = rowUnitOf(plan, w);
          rw[w - start] = w;
        }
      },
    });
    base.set(pred, start * H * N);
  });
  return base;
}

/** The sizes an AR-CIG pass iterates over (W = units x origins windows) and a fresh accumulator. */
function arCigShape(ctx: ArCigContext) {
  const { plan, c, delta } = ctx;
  const N = ctx.data.nodes;
  const O = plan.origins.length;
  return { plan, c, delta, N, H: c.horizon, O, W: plan.units.length * O, acc: new InfluenceAccumulator(plan.units.length, N) };
}

/** Total AR-CIG: j perturbed, nothing clamped; rows r = j * W + w. */
function totalArCig(ctx: ArCigContext, base: Float32Array): InfluenceMatrix {
  const { plan, c, delta, N, H, O, W, acc } = arCigShape(ctx);
  forChunks(W * N, c.chunkRows, (start, end) => {
    const pred = rolloutRows(ctx, end - start, {
      fill: (xv, ru, rw) => {
        for (let r = start; r < end; r++) {
          const w = r % W;
          ctx.fill(w, Math.floor(r / W), xv, r - start);
          ru[r - start] = rowUnitOf(plan, w);
          rw[r - start] = w;
        }
      },
    });
    for (let r = start; r < end; r++) {
      const j = Math.floor(r / W);
      const w = r % W;
      const ui = Math.floor(w / O);
      for (let i = 0; i < N; i++) {
        let s = 0;
        for (let h = 0; h < H; h++) s += Math.abs(pred[((r - start) * H + h) * N + i] - base[(w * H + h) * N + i]);
        acc.add(ui, j, i, s / (H * delta[j]));
      }
    }
  });
  return acc.result("ar-cig-total", plan, H, delta);
}

/** Direct AR-CIG: j perturbed, every node but j and i fed its baseline rollout; rows r = (j * N + i) * W + w. */
function directArCig(ctx: ArCigContext, base: Float32Array): InfluenceMatrix {
  const { plan, c, delta, N, H, O, W, acc } = arCigShape(ctx);
  forChunks(W * N * N, c.chunkRows, (start, end) => {
    const pairOf = (r: number) => {
      const pair = Math.floor(r / W);
      return { w: r % W, j: Math.floor(pair / N), i: pair % N };
    };
    const pred = rolloutRows(ctx, end - start, {
      fill: (xv, ru, rw) => {
        for (let r = start; r < end; r++) {
          const { w, j } = pairOf(r);
          ctx.fill(w, j, xv, r - start);
          ru[r - start] = rowUnitOf(plan, w);
          rw[r - start] = w;
        }
      },
      feed: (fv, mv) => {
        for (let r = start; r < end; r++) {
          const { w, j, i } = pairOf(r);
          const off = (r - start) * H * N;
          fv.set(base.subarray(w * H * N, (w + 1) * H * N), off);
          for (let h = 0; h < H; h++) for (let k = 0; k < N; k++) mv[off + h * N + k] = k === j || k === i ? 0 : 1;
        }
      },
      ...(ctx.forecaster.clampsStates
        ? {
            clamp: (bv: Float32Array, cv: Float32Array) => {
              for (let r = start; r < end; r++) {
                const { w, j, i } = pairOf(r);
                ctx.fill(w, -1, bv, r - start);
                for (let k = 0; k < N; k++) cv[(r - start) * N + k] = k === j || k === i ? 0 : 1;
              }
            },
          }
        : {}),
    });
    for (let r = start; r < end; r++) {
      const w = r % W;
      const pair = Math.floor(r / W);
      const j = Math.floor(pair / N);
      const i = pair % N;
      let s = 0;
      for (let h = 0; h < H; h++) s += Math.abs(pred[((r - start) * H + h) * N + i] - base[(w * H + h) * N + i]);
      acc.add(Math.floor(w / O), j, i, s / (H * delta[j]));
    }
  });
  return acc.result("ar-cig-direct", plan, H, delta);
}

/**
 * AR-CIG, direct and/or total (forecasting mode, as for MSE@M): the perturbation of {@link cig}
 * at o - 1, then an H-step rollout (default H = 7). *Direct*: every node other than j and i is
 * fed its unperturbed rollout through the rollout feed mask, so only j's own route to i (and i's
 * feedback on itself) counts; *total*: nothing is clamped. `AR-CIG[j][i]` = mean over the H
 * steps, the origins and the units of |change of i's prediction| / delta_j.
 *
 * What "direct" can and cannot clamp: the feed mask clamps the *inputs* of the other nodes. A
 * forecaster with per-node recurrent state (`clampsStates`: CausalMMM, the graph-safe decoder)
 * is also given the unperturbed history through `feed.clamp` and keeps every other node's state
 * on the unperturbed run, so a path j -> k -> i adds nothing and direct AR-CIG[j][i] is j's own
 * route to i. For a forecaster whose nodes share one state (the joint GRU, the DeepCausalMMM-style
 * model) a state cannot be split by node: its "direct" AR-CIG clamps inputs only, and the
 * perturbation of j still reaches i through the shared state by every route, so it is not
 * separable from the total; linear lag models have no state and inputs are all there is.
 *
 * data: values [units, steps, nodes], already scaled; `rollout` is called on x: [rows, history,
 * nodes] with horizon H, chunked: the baseline (windows rows), total (windows * N rows) and direct
 * (windows * N * N rows, the feed mask clamping every node but j and i to the baseline rollout).
 */
export function arCig(forecaster: Forecaster, data: SeriesData, config: Partial<InfluenceConfig> = {}): ArCigResult {
  const c: InfluenceConfig = { ...DEFAULT_INFLUENCE, ...config };
  const what = "arCig";
  checkData(data, forecaster.nodes, what);
  const N = data.nodes;
  const H = c.horizon;
  if (!(Number.isInteger(H) && H >= 1)) throw new Error(`${what}: horizon must be a positive integer, got ${H}`);
  if (c.modes.length === 0 || c.modes.some((m) => m !== "direct" && m !== "total")) {
    throw new Error(`${what}: modes must be a non-empty list of "direct" / "total", got [${c.modes}]`);
  }
  const delta = resolveDelta(c.delta, N, what);
  const plan = planWindows(data, c, { minHistory: forecaster.minHistory, what });
  const ctx: ArCigContext = { forecaster, data, c, plan, delta, fill: rowFiller(data, plan, delta), what };
  const continuation = forecaster.continuation;
  if (continuation && plan.history >= 2) ctx.prefix = { states: prefixStates(ctx, continuation), continuation };
  try {
    const base = baselineRollouts(ctx);
    const result: ArCigResult = {};
    if (c.modes.includes("total")) result.total = totalArCig(ctx, base);
    if (c.modes.includes("direct")) result.direct = directArCig(ctx, base);
    return result;
  } finally {
    ctx.prefix?.states.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// Scoring against a graph
// ---------------------------------------------------------------------------------------------

/** How influence matrices are ranked against a graph. */
export interface InfluenceScoreConfig {
  /**
   * Off-diagonal values within `tieTolerance * max |off-diagonal value|` of each other (chained in
   * sorted order) are treated as ties: floating-point noise is not a ranking. 0 disables it.
   */
  tieTolerance: number;
}

export const DEFAULT_INFLUENCE_SCORE: InfluenceScoreConfig = { tieTolerance: 1e-4 };

/** Scores of one influence matrix against a graph. */
export interface InfluenceScore extends GraphScoreSet {
  /** The unit-averaged matrix (`values`) against the shared true graph; NaN with a reason when units have different graphs. */
  matrix: RankingResult;
  /** The headline: `matrix` when all units share one true graph, else the unit mean. */
  headline: { auroc: number; ap: number; nauprc: number; from: "matrix" | "unit-mean"; reason?: string };
}

/** Off-diagonal values of an N x N matrix with noise-level differences merged into ties. */
function rankable(m: number[][], tieTolerance: number): number[] {
  const v = offDiagonal(m);
  const scale = v.reduce((s, x) => (Number.isFinite(x) ? Math.max(s, Math.abs(x)) : s), 0);
  return snapTies(v, tieTolerance * scale);
}

function sameGraph(a: Graph, b: Graph): boolean {
  return a.length === b.length && a.every((row, j) => row.length === b[j].length && row.every((v, i) => i === j || v === b[j][i]));
}

/**
 * Scores an influence matrix against a true graph (off-diagonal entries): per unit (each unit's
 * matrix against its own graph), the mean over units, all units pooled, and the unit-averaged
 * matrix against the shared graph. It ranks the off-diagonal entries after merging values that
 * differ only by floating-point noise into ties (`tieTolerance`, relative to the largest
 * off-diagonal value), so that a forecaster whose influence is equal in exact arithmetic gets the
 * constant-score nAUPRC of 0 instead of a ranking of rounding errors.
 * @param truth one N x N 0/1 graph for every unit, or one per unit of the data (indexed by unit
 *   index, as `unitGraphs(panel)` returns; only `m.units` are used).
 */
export function scoreInfluence(m: InfluenceMatrix, truth: Graph | readonly Graph[], config: Partial<InfluenceScoreConfig> = {}): InfluenceScore {
  const c = { ...DEFAULT_INFLUENCE_SCORE, ...config };
  const N = m.values.length;
  const isList = truth.length > 0 && Array.isArray((truth as Graph[])[0]?.[0]);
  const graphOf = (u: number): Graph => {
    if (!isList) return truth as Graph;
    const g = (truth as readonly Graph[])[u];
    if (!g) throw new Error(`scoreInfluence: no true graph for unit ${u} (${truth.length} graphs given)`);
    return g;
  };
  const truths = m.units.map(graphOf);
  truths.forEach((g, k) => {
    if (g.length !== N || g.some((row) => row.length !== N)) throw new Error(`scoreInfluence: true graph of unit ${m.units[k]} is not ${N} x ${N}`);
  });
  const perUnit = m.perUnit.map((pm, k) => rankingMetrics(offDiagonal(truths[k]), rankable(pm, c.tieTolerance)));
  const labels: number[] = [];
  const values: number[] = [];
  m.perUnit.forEach((pm, k) => {
    labels.push(...offDiagonal(truths[k]));
    values.push(...offDiagonal(pm));
  });
  const scale = values.reduce((s, x) => (Number.isFinite(x) ? Math.max(s, Math.abs(x)) : s), 0);
  const pooled = rankingMetrics(labels, snapTies(values, c.tieTolerance * scale));
  const shared = truths.every((g) => sameGraph(g, truths[0]));
  const matrix: RankingResult = shared
    ? rankingMetrics(offDiagonal(truths[0]), rankable(m.values, c.tieTolerance))
    : { auroc: NaN, ap: NaN, nauprc: NaN, prevalence: NaN, positives: 0, negatives: 0, reason: "units have different true graphs: use the unit mean" };
  const mean = meanRanking(perUnit);
  const headline = shared
    ? { auroc: matrix.auroc, ap: matrix.ap, nauprc: matrix.nauprc, from: "matrix" as const, reason: matrix.reason }
    : { auroc: mean.auroc, ap: mean.ap, nauprc: mean.nauprc, from: "unit-mean" as const, reason: mean.reason };
  if (headline.reason === undefined) delete headline.reason;
  return { perUnit, mean, pooled, matrix, headline };
}

/** AR-CIG scored as STUDY.md asks: direct against the true graph; total against it and against its transitive closure. */
export interface ArCigScores {
  direct?: InfluenceScore;
  total?: InfluenceScore;
  totalVsClosure?: InfluenceScore;
}

/** Scores direct AR-CIG against `truth` and total AR-CIG against `truth` and its transitive closure. */
export function scoreArCig(result: ArCigResult, truth: Graph | readonly Graph[], config: Partial<InfluenceScoreConfig> = {}): ArCigScores {
  const isList = truth.length > 0 && Array.isArray((truth as Graph[])[0]?.[0]);
  const closure = isList ? (truth as readonly Graph[]).map(transitiveClosure) : transitiveClosure(truth as Graph);
  const out: ArCigScores = {};
  if (result.direct) out.direct = scoreInfluence(result.direct, truth, config);
  if (result.total) {
    out.total = scoreInfluence(result.total, truth, config);
    out.totalVsClosure = scoreInfluence(result.total, closure, config);
  }
  return out;
}
