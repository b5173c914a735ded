/**
 * The true response of a generated panel to a spend intervention, under the data-generating
 * process that made it (lib/data/simulate.ts): what an allocation really earns, against which the
 * models' recommended budgets are judged (notebook 07). {@link trueAllocationResponses} gives the
 * exact propagation, the windows and the one approximation.
 */
import type { Panel } from "../data/panel";
import { type ChannelParams, type EdgeWeights, type VarDagConfig, contextHalfPoint, geometricAdstock, hillSaturation } from "../data/simulate";

/** Windows and rules of a true-response evaluation (the model-based analysis uses the same). */
export interface TrueResponseConfig {
  /** Units (indices) evaluated. */
  units: readonly number[];
  /** Origins: absolute steps of the first intervened step. */
  origins: readonly number[];
  /** H: steps whose spend is set. */
  horizon: number;
  /** Steps measured after the horizon (spend back to observed). */
  carryover: number;
  measure: "sum" | "mean";
}

/** What a generated panel's provenance must hold. */
interface DrawnParams {
  config: VarDagConfig;
  drawn: { graphOfUnit: number[]; ar: number[]; edges: EdgeWeights[]; channels: ChannelParams[] };
}

/** The simulation parameters of a generated panel, checked. */
function drawnParams(panel: Panel, what: string): DrawnParams {
  const p = panel.provenance?.params as Partial<DrawnParams> | undefined;
  const gen = panel.provenance?.generator;
  if (gen !== "var-dag" && gen !== "sparse-target") {
    throw new Error(`${what}: the true response needs a panel made by generateVarDag or generateSparseTarget (this one: ${gen ?? "no provenance"})`);
  }
  if (!p?.config || !p.drawn?.edges || !p.drawn.channels || !p.drawn.ar || !p.drawn.graphOfUnit) {
    throw new Error(`${what}: the panel's provenance lacks the drawn parameters`);
  }
  return p as DrawnParams;
}

/**
 * The true response (raw target, summed or averaged over the measured steps; mean over units of
 * the mean over origins) to each allocation: spend per step of every channel, in the panel's
 * channel order (nodes with role "channel"), over the horizon. Also returns the observed
 * target's value over the same windows (the allocation "as observed").
 *
 * The generator's non-root nodes follow, per unit u (graph g), node i and step t,
 *
 *     x_i(t) = a_i x_i(t-1) + sum_j sum_{l=1..L} W_g[i, j, l] f_j(t-l) + e_i(t)
 *
 * with f_j the saturated adstocked spend of a channel (`Hill(adstock(s_j), kappa_uj, slope_j)`,
 * or the spend itself for a linear panel) and f_j = x_j for intermediates. The system is linear in
 * f given the spend, and an intervention leaves the noise e as drawn, so the change it causes is
 * exact: with Delta f_j(t) = f'_j(t) - f_j(t) for the changed spend s',
 *
 *     Delta x_i(t) = a_i Delta x_i(t-1) + sum_j sum_l W_g[i, j, l] Delta f_j(t-l),
 *
 * propagated from the first changed step. The true target under the intervention is the observed
 * target plus Delta x_target. The same windows and rules as the model-based analysis
 * (lib/analysis/budget.ts): for each (unit, origin o) the spend of every channel is set to the
 * allocation over the H steps o .. o + H - 1 and is the observed spend elsewhere; the target is
 * summed (or averaged) over o .. o + H + carryover - 1; responses are means over units of the
 * mean over origins, on the raw scale of the panel.
 *
 * Approximation (stated, and small): the adstock is recomputed from the panel's first step,
 * without the generator's burn-in; the missing carry-over decays as lambda^t (lambda <= 0.8 in
 * the generator's defaults), so with origins at least 40 steps in it is below 1e-4 of a step's
 * spend. The panel must come from `generateVarDag` or `generateSparseTarget` unmodified (its
 * provenance holds the parameters); rawlog panels are observed through a transform and are not
 * supported.
 */
export function trueAllocationResponses(
  panel: Panel,
  allocations: readonly (readonly number[])[],
  config: TrueResponseConfig,
): { responses: number[]; observed: number } {
  const what = "trueAllocationResponses";
  const { config: c, drawn } = drawnParams(panel, what);
  const N = panel.nodes;
  const T = panel.steps;
  const C = c.channels;
  const L = c.lags;
  const target = N - 1;
  const { horizon: H, carryover } = config;
  if (!(Number.isInteger(H) && H >= 1)) throw new Error(`${what}: horizon must be a positive integer, got ${H}`);
  if (!(Number.isInteger(carryover) && carryover >= 0)) throw new Error(`${what}: carryover must be a non-negative integer, got ${carryover}`);
  const span = H + carryover;
  for (const o of config.origins) {
    if (!(Number.isInteger(o) && o >= 1 && o + span <= T)) {
      throw new Error(`${what}: origin ${o} needs steps ${o}..${o + span - 1} inside the panel's ${T} steps`);
    }
  }
  for (const u of config.units) if (!(Number.isInteger(u) && u >= 0 && u < panel.units)) throw new Error(`${what}: unit ${u} is not in 0..${panel.units - 1}`);
  allocations.forEach((a, k) => {
    if (a.length !== C) throw new Error(`${what}: allocation ${k} has ${a.length} values for ${C} channels`);
    if (a.some((v) => !(v >= 0 && Number.isFinite(v)))) throw new Error(`${what}: allocation ${k} has a negative or non-finite spend`);
  });
  // W[g][i][j]: lag weights (length L) or undefined
  const index = new Map(panel.nodeNames.map((n, i) => [n, i]));
  const graphs = Math.max(...drawn.graphOfUnit) + 1;
  const W: (number[] | undefined)[][][] = Array.from({ length: graphs }, () => Array.from({ length: N }, () => new Array<number[] | undefined>(N)));
  for (const e of drawn.edges) W[e.graph][index.get(e.target)!][index.get(e.source)!] = e.weights;
  const K = panel.context?.names.length ?? 0;

  const at = (u: number, t: number, i: number) => panel.values[(u * T + t) * N + i];
  const measured = (u: number, o: number, delta: Float64Array | null) => {
    let s = 0;
    for (let t = o; t < o + span; t++) s += at(u, t, target) + (delta ? delta[t - o] : 0);
    return config.measure === "sum" ? s : s / span;
  };

  let observed = 0;
  const totals = allocations.map(() => 0);
  for (const u of config.units) {
    const g = drawn.graphOfUnit[u];
    const ctx = panel.context ? panel.context.values.subarray(u * K, (u + 1) * K) : new Float32Array(0);
    const spend = Array.from({ length: C }, (_, j) => Float64Array.from({ length: T }, (_, t) => at(u, t, j)));
    const kappa = drawn.channels.map((p) => (c.linear ? NaN : contextHalfPoint(p, ctx)));
    const transform = (s: ArrayLike<number>, j: number): Float64Array => {
      if (c.linear) return Float64Array.from(s);
      const p = drawn.channels[j];
      const a = geometricAdstock(s, p.adstock);
      for (let t = 0; t < a.length; t++) a[t] = hillSaturation(a[t], kappa[j], p.slope);
      return a;
    };
    const base = spend.map((s, j) => transform(s, j));
    let obsU = 0;
    const sumU = allocations.map(() => 0);
    for (const o of config.origins) {
      obsU += measured(u, o, null);
      allocations.forEach((alloc, k) => {
        // Delta f of the channels over the measured span (0 before o), then the VAR's propagation
        const df: Float64Array[] = Array.from({ length: N }, () => new Float64Array(span));
        for (let j = 0; j < C; j++) {
          const s = Float64Array.from(spend[j].subarray(0, o + span));
          for (let t = o; t < o + H; t++) s[t] = alloc[j];
          const f = transform(s, j);
          for (let t = o; t < o + span; t++) df[j][t - o] = f[t] - base[j][t];
        }
        for (let h = 0; h < span; h++) {
          for (let i = C; i < N; i++) {
            let v = h > 0 ? drawn.ar[i] * df[i][h - 1] : 0;
            const w = W[g][i];
            for (let j = 0; j < N; j++) {
              const wj = w[j];
              if (!wj) continue;
              for (let l = 1; l <= L && l <= h; l++) v += wj[l - 1] * df[j][h - l];
            }
            df[i][h] = v;
          }
        }
        sumU[k] += measured(u, o, df[target]);
      });
    }
    observed += obsU / config.origins.length;
    sumU.forEach((v, k) => (totals[k] += v / config.origins.length));
  }
  const n = config.units.length;
  return { responses: totals.map((v) => v / n), observed: observed / n };
}
