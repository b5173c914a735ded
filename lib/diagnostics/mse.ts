/**
 * MSE@M: forecasting accuracy at horizon M with rolling origins (STUDY.md, "Measures"), the
 * forecasting half of every comparison of the study (a model can forecast well and still not be
 * graph aligned). {@link mseAtHorizons} gives the definition and how it is batched.
 */
import { tf } from "../tf";
import type { Forecaster } from "../core/forecaster";
import type { SeriesData, WindowConfig, WindowPlan } from "./windows";
import { DEFAULT_WINDOWS, batchInputs, checkData, copyHistory, forChunks, planWindows, readAndDispose, resolveTarget } from "./windows";

/** MSE@M configuration (window settings plus horizons and target). */
export interface MseConfig extends WindowConfig {
  /** Horizons M (default 1, 7, 14, 30). */
  horizons: number[];
  /** Target node index; default: the node whose role is "target". */
  target?: number;
}

export const DEFAULT_MSE: MseConfig = { ...DEFAULT_WINDOWS, horizons: [1, 7, 14, 30] };

/** MSE at one horizon. */
export interface MseAtHorizon {
  horizon: number;
  /** MSE of the target over the M steps, mean over origins and units; NaN (with `reason`) when no origin fits. */
  target: number;
  /** The same over all nodes (mean over nodes). */
  allNodes: number;
  /** Per node (mean over units), length N. */
  perNode: number[];
  /** Target MSE of each evaluated unit (order of `MseResult.units`). */
  perUnitTarget: number[];
  /** All-node MSE of each evaluated unit. */
  perUnitAll: number[];
  /** Origins used at this horizon. */
  origins: number[];
  /** Why the values are NaN (no origin leaves M steps of truth in the test window). */
  reason?: string;
}

/** MSE@M for all horizons. */
export interface MseResult {
  /** One entry per configured horizon, in the configured order. */
  horizons: MseAtHorizon[];
  /** Target node index. */
  target: number;
  /** Units evaluated. */
  units: number[];
  /** History length fed before each origin. */
  history: number;
  /** The test window. */
  window: { from: number; to: number };
}

/**
 * MSE@M of a forecaster on rolling origins of the test window.
 * data: values [units, steps, nodes] (a Panel or the same layout), already scaled.
 *
 * For every unit and every origin `o` of the test window with `o + M <= window.to`: teacher-force
 * the `history` steps before `o`, roll out M steps autoregressively, and take the squared error
 * over the steps `o .. o + M - 1`. MSE@M of a unit = mean over those M steps and over its
 * origins; the reported MSE@M = mean over units. Computed for the target node and for all nodes
 * (mean over nodes), and per node. Errors are on the scale of the data passed in: the caller
 * standardises by training-window statistics as the benchmark defines.
 *
 * Every (unit, origin) window is one batch row `x: [batch, history, nodes]`; all rows are rolled
 * out to the largest horizon in one `rollout` call per chunk of `chunkRows` rows. Each horizon
 * uses the origins that leave M steps of truth inside the test window, so a long horizon may use
 * fewer origins than a short one (`origins` of each result lists them).
 */
export function mseAtHorizons(forecaster: Forecaster, data: SeriesData, config: Partial<MseConfig> = {}): MseResult {
  const c: MseConfig = { ...DEFAULT_MSE, ...config };
  const what = "mseAtHorizons";
  checkData(data, forecaster.nodes, what);
  if (c.horizons.length === 0 || c.horizons.some((m) => !Number.isInteger(m) || m < 1)) {
    throw new Error(`${what}: horizons must be positive integers, got [${c.horizons}]`);
  }
  const target = resolveTarget(data, c.target, what);
  const minM = Math.min(...c.horizons);
  const plan: WindowPlan = planWindows(data, c, { minHistory: forecaster.minHistory, lastOriginOffset: minM, what });
  const N = data.nodes;
  const { units, origins, history, window } = plan;
  const H = Math.max(...c.horizons.filter((m) => origins[0] + m <= window.to));
  const O = origins.length;
  const rows = units.length * O;
  // sq[(r * H + h) * N + i]: squared error of row r at step h for node i (NaN beyond the window).
  const sq = new Float64Array(rows * H * N);
  forChunks(rows, c.chunkRows, (start, end) => {
    const B = end - start;
    const xv = new Float32Array(B * history * N);
    const rowUnits = new Int32Array(B);
    for (let r = start; r < end; r++) {
      const u = units[Math.floor(r / O)];
      rowUnits[r - start] = u;
      copyHistory(data, { unit: u, origin: origins[r % O], history }, xv, (r - start) * history * N);
    }
    const pred = readAndDispose(
      tf.tidy(() => {
        const x = tf.tensor3d(xv, [B, history, N]);
        const out = forecaster.rollout(x, H, batchInputs(data, c.graph, rowUnits, forecaster.acceptsGraph));
        if (out.shape[0] !== B || out.shape[1] !== H || out.shape[2] !== N) {
          throw new Error(`${what}: rollout returned shape [${out.shape}], expected [${B}, ${H}, ${N}]`);
        }
        return out;
      }),
    );
    for (let r = start; r < end; r++) {
      const u = units[Math.floor(r / O)];
      const o = origins[r % O];
      for (let h = 0; h < H; h++) {
        const t = o + h;
        for (let i = 0; i < N; i++) {
          const k = (r * H + h) * N + i;
          sq[k] = t < window.to ? (pred[((r - start) * H + h) * N + i] - data.values[(u * data.steps + t) * N + i]) ** 2 : NaN;
        }
      }
    }
  });
  const horizons = c.horizons.map((M): MseAtHorizon => {
    const used = origins.map((o, k) => [o, k] as const).filter(([o]) => o + M <= window.to);
    if (used.length === 0) {
      return {
        horizon: M,
        target: NaN,
        allNodes: NaN,
        perNode: new Array<number>(N).fill(NaN),
        perUnitTarget: units.map(() => NaN),
        perUnitAll: units.map(() => NaN),
        origins: [],
        reason: `no origin o of the test window [${window.from}, ${window.to}) has o + ${M} <= ${window.to}`,
      };
    }
    const perUnitNode = units.map((_, ui) => {
      const acc = new Float64Array(N);
      for (const [, k] of used) {
        const r = ui * O + k;
        for (let h = 0; h < M; h++) for (let i = 0; i < N; i++) acc[i] += sq[(r * H + h) * N + i];
      }
      return Array.from(acc, (s) => s / (used.length * M));
    });
    const perUnitTarget = perUnitNode.map((p) => p[target]);
    const perUnitAll = perUnitNode.map((p) => p.reduce((s, v) => s + v, 0) / N);
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    return {
      horizon: M,
      target: mean(perUnitTarget),
      allNodes: mean(perUnitAll),
      perNode: Array.from({ length: N }, (_, i) => mean(perUnitNode.map((p) => p[i]))),
      perUnitTarget,
      perUnitAll,
      origins: used.map(([o]) => o),
    };
  });
  return { horizons, target, units, history, window };
}

/** The entry of horizon M of a result (throws when M was not computed). */
export function mseAt(result: MseResult, M: number): MseAtHorizon {
  const h = result.horizons.find((x) => x.horizon === M);
  if (!h) throw new Error(`mseAt: horizon ${M} was not computed (horizons: ${result.horizons.map((x) => x.horizon).join(", ")})`);
  return h;
}
