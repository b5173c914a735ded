/**
 * The true response of a generated panel to a spend intervention, under the data-generating
 * process that made it (lib/data/simulate.ts): what an allocation really earns, against which the
 * models' recommended budgets are judged (notebook 07). {@link trueAllocationResponses} gives the
 * exact propagation, the windows and the one approximation. The process itself
 * ({@link generatorSystem}, {@link unitChannels}, {@link propagateChange}) is shared with the true
 * influence (lib/analysis/true-influence.ts).
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

/**
 * A generated panel's process, read from its provenance: every non-root node i of a unit with graph
 * g follows `x_i(t) = a_i x_i(t-1) + sum_j sum_{l=1..L} W_g[i, j, l] f_j(t-l) + e_i(t)` (see
 * {@link trueAllocationResponses}), channels being nodes `0 .. channels - 1`.
 */
export interface GeneratorSystem {
  generator: string;
  config: VarDagConfig;
  drawn: DrawnParams["drawn"];
  nodes: number;
  steps: number;
  channels: number;
  lags: number;
  /** The graph of each unit of the panel (its own truth when it has one, as after a unit subset). */
  graphOfUnit: number[];
  /** `weights[g][i][j]`: the lag weights W_g[i, j, 1..L] of the edge j -> i, or undefined without the edge. */
  weights: (number[] | undefined)[][][];
}

/**
 * The process that generated a panel, checked: the generator must be one of `generators` (its
 * provenance holds the drawn parameters of lib/data/simulate.ts), and the panel must still be on
 * the raw scale (not standardised by `applyScaler`). `needs` names the accepted generators in the
 * error message.
 */
export function generatorSystem(panel: Panel, what: string, generators: readonly string[], needs: string): GeneratorSystem {
  const p = panel.provenance?.params as Partial<DrawnParams> | undefined;
  const gen = panel.provenance?.generator;
  if (gen === undefined || !generators.includes(gen)) {
    throw new Error(`${what}: the true process needs a panel made by ${needs} (this one: ${gen ?? "no provenance"})`);
  }
  if (!p?.config || !p.drawn?.edges || !p.drawn.channels || !p.drawn.ar || !p.drawn.graphOfUnit) {
    throw new Error(`${what}: the panel's provenance lacks the drawn parameters`);
  }
  const scaling = (panel.provenance.history ?? []).filter((s) => s.op === "applyScaler" || s.op === "invertScaler").pop();
  if (scaling?.op === "applyScaler") throw new Error(`${what}: the panel is standardised (applyScaler); pass the raw panel and its scaler`);
  const { config, drawn } = p as DrawnParams;
  const N = panel.nodes;
  const C = config.channels;
  const bad = panel.roles.findIndex((r, j) => (r === "channel") !== j < C);
  if (bad >= 0) throw new Error(`${what}: node ${panel.nodeNames[bad]} breaks the generator's layout (channels are nodes 0..${C - 1})`);
  const graphOfUnit = panel.truth?.graphOfUnit ?? drawn.graphOfUnit;
  if (graphOfUnit.length !== panel.units) throw new Error(`${what}: ${graphOfUnit.length} graph assignments for ${panel.units} units`);
  const index = new Map(panel.nodeNames.map((n, i) => [n, i]));
  const graphs = Math.max(...drawn.graphOfUnit, ...graphOfUnit) + 1;
  const weights: GeneratorSystem["weights"] = Array.from({ length: graphs }, () => Array.from({ length: N }, () => new Array<number[] | undefined>(N)));
  for (const e of drawn.edges) {
    const i = index.get(e.target);
    const j = index.get(e.source);
    if (i === undefined || j === undefined) throw new Error(`${what}: edge ${e.source} -> ${e.target} of the provenance names a node the panel lacks`);
    weights[e.graph][i][j] = e.weights;
  }
  return { generator: gen, config, drawn, nodes: N, steps: panel.steps, channels: C, lags: config.lags, graphOfUnit, weights };
}

/** One unit's channels under the generator: observed spend, what they send (f) and the map from spend to f. */
export interface UnitChannels {
  /** Observed spend per channel, over the panel's steps. */
  spend: Float64Array[];
  /** f_j = Hill(adstock(spend_j)) per channel (the spend itself on a linear panel). */
  f: Float64Array[];
  /** f of channel j for a spend series `s` (adstock from the series' first step). */
  transform(s: ArrayLike<number>, j: number): Float64Array;
}

/** The channels of unit `u` (its context sets the Hill half-points). */
export function unitChannels(sys: GeneratorSystem, panel: Panel, u: number): UnitChannels {
  const { config: c, drawn, channels: C, steps: T, nodes: N } = sys;
  const K = panel.context?.names.length ?? 0;
  const ctx = panel.context ? panel.context.values.subarray(u * K, (u + 1) * K) : new Float32Array(0);
  const spend = Array.from({ length: C }, (_, j) => Float64Array.from({ length: T }, (_, t) => panel.values[(u * T + t) * N + j]));
  const kappa = drawn.channels.map((p) => (c.linear ? NaN : contextHalfPoint(p, ctx)));
  const transform = (s: ArrayLike<number>, j: number): Float64Array => {
    if (c.linear) return Float64Array.from(s);
    const p = drawn.channels[j];
    const a = geometricAdstock(s, p.adstock);
    for (let t = 0; t < a.length; t++) a[t] = hillSaturation(a[t], kappa[j], p.slope);
    return a;
  };
  return { spend, f: spend.map((s, j) => transform(s, j)), transform };
}

/**
 * Propagates a change through the non-root nodes of graph `g`, in place, over consecutive steps
 * (index h of every row): on entry `change[j]` holds Delta f_j of each channel and, for a non-root
 * node, an added noise Delta e_i (zeros for none); on exit the non-root rows hold
 *
 *     Delta x_i(h) = a_i Delta x_i(h-1) + sum_j sum_l W_g[i, j, l] Delta f_j(h-l) + Delta e_i(h),
 *
 * nothing changed before h = 0. Only the non-root nodes in `free` (default: all) move; every other
 * non-root node is held at its unperturbed value (its row is set to 0).
 */
export function propagateChange(sys: GeneratorSystem, g: number, change: Float64Array[], free?: readonly number[]): void {
  const { channels: C, nodes: N, lags: L, drawn } = sys;
  const moving = [...new Set(free ?? Array.from({ length: N - C }, (_, k) => C + k))].filter((i) => i >= C);
  for (let i = C; i < N; i++) if (!moving.includes(i)) change[i].fill(0);
  const span = change[0]?.length ?? 0;
  for (let h = 0; h < span; h++) {
    for (const i of moving) {
      let v = change[i][h] + (h > 0 ? drawn.ar[i] * change[i][h - 1] : 0);
      const w = sys.weights[g][i];
      for (let j = 0; j < N; j++) {
        const wj = w[j];
        if (!wj) continue;
        for (let l = 1; l <= L && l <= h; l++) v += wj[l - 1] * change[j][h - l];
      }
      change[i][h] = v;
    }
  }
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
 * spend. The panel must come from `generateVarDag` or `generateSparseTarget` (its provenance
 * holds the parameters), on the raw scale; a unit subset keeps each unit's graph through
 * `panel.truth`. Rawlog panels are observed through a transform and are not supported.
 */
export function trueAllocationResponses(
  panel: Panel,
  allocations: readonly (readonly number[])[],
  config: TrueResponseConfig,
): { responses: number[]; observed: number } {
  const what = "trueAllocationResponses";
  // the bypass-prone generator's demand and context terms enter the target additively and do not depend on spend: set spend leaves them as drawn
  const sys = generatorSystem(panel, what, ["var-dag", "sparse-target", "bypass-prone"], "generateVarDag, generateSparseTarget or the bypass-prone generator");
  const { nodes: N, steps: T, channels: C } = sys;
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

  const at = (u: number, t: number, i: number) => panel.values[(u * T + t) * N + i];
  const measured = (u: number, o: number, delta: Float64Array | null) => {
    let s = 0;
    for (let t = o; t < o + span; t++) s += at(u, t, target) + (delta ? delta[t - o] : 0);
    return config.measure === "sum" ? s : s / span;
  };

  let observed = 0;
  const totals = allocations.map(() => 0);
  for (const u of config.units) {
    const g = sys.graphOfUnit[u];
    const { spend, f: base, transform } = unitChannels(sys, panel, u);
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
        propagateChange(sys, g, df);
        sumU[k] += measured(u, o, df[target]);
      });
    }
    observed += obsU / config.origins.length;
    sumU.forEach((v, k) => (totals[k] += v / config.origins.length));
  }
  const n = config.units.length;
  return { responses: totals.map((v) => v / n), observed: observed / n };
}
