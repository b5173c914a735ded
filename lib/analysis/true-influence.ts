/**
 * True influence (STUDY.md, "Measures"): the data-generating process's own AR-CIG, the same
 * perturbation, windows and horizon as a forecaster's AR-CIG (lib/diagnostics/influence.ts),
 * propagated exactly through the generator of lib/data/simulate.ts instead of through a model. A
 * decoder's AR-CIG is compared with it by lib/diagnostics/agreement.ts. {@link trueInfluence} gives
 * the semantics.
 */
import type { Panel, Scaler } from "../data/panel";
import type { InfluenceConfig, InfluenceMatrix } from "../diagnostics/influence";
import { DEFAULT_INFLUENCE, InfluenceAccumulator, resolveDelta } from "../diagnostics/influence";
import { planWindows } from "../diagnostics/windows";
import { generatorSystem, propagateChange, unitChannels } from "./truth";

/** An influence matrix of the generating process (kind "ar-cig-direct" or "ar-cig-total", as the forecaster's it is compared with). */
export interface TrueInfluenceMatrix extends InfluenceMatrix {
  /** Computed from the generator, not from a forecaster. */
  source: "generator";
  /** The panel's generator (provenance). */
  generator: string;
}

/** Direct and total true influence. */
export interface TrueInfluence {
  direct: TrueInfluenceMatrix;
  total: TrueInfluenceMatrix;
}

/** Generators whose panels follow the equation of {@link trueInfluence} and record its parameters. */
export const TRUE_INFLUENCE_GENERATORS: readonly string[] = ["var-dag", "sparse-target", "bypass-prone"];

/** The scaler's row (group) of unit `u` of the panel. */
function scalerGroup(scaler: Scaler, panel: Panel, u: number, what: string): number {
  if (scaler.scope === "node") return 0;
  const k = (scaler.unitIds ?? []).indexOf(panel.unitIds[u]);
  if (k < 0) throw new Error(`${what}: the scaler (scope "unit-node") was not fitted on unit "${panel.unitIds[u]}"`);
  return k;
}

/** raw' - raw for raw' = unscale(scale(raw) + dz), node i (closed form, no cancellation). */
function rawChange(scaler: Scaler, i: number, raw: number, dz: number, group: number): number {
  const sd = scaler.sd[group][i];
  return scaler.log1p[i] ? (1 + raw) * Math.expm1(dz * sd) : dz * sd;
}

/** scale(raw + d) - scale(raw): a raw change d of node i in the model scale. */
function modelChange(scaler: Scaler, i: number, raw: number, d: number, group: number): number {
  const sd = scaler.sd[group][i];
  return (scaler.log1p[i] ? Math.log1p(d / (1 + raw)) : d) / sd;
}

/**
 * The true influence of every node j on every node i of a generated panel, direct and total, in
 * the model scale: the panel standardised by `scaler` (the one fitted on the training window, as
 * `prepareTimePanel` returns it). `panel` is the raw generated panel (provenance intact); `config`
 * is the one given to `arCig` (windows, `delta`, horizon H), so both measures read the same
 * units, origins and perturbations (`modes`, `graph` and `chunkRows` do not apply: both variants
 * are always computed).
 *
 * The generator's non-root nodes follow, per unit (graph g), node i and step t,
 *
 *     x_i(t) = a_i x_i(t-1) + sum_j sum_{l=1..L} W_g[i, j, l] f_j(t-l) + e_i(t)
 *
 * (f_j = Hill(adstock(spend_j)) of a channel, the spend itself on a linear panel, f_j = x_j
 * otherwise; terms that no node drives, such as a latent demand or a context level, leave the
 * change unaltered). For every window (unit u, origin o) and sender j, delta_j is added to j's
 * value at the last history step o - 1 in the model scale (raw' = unscale(scale(raw) + delta_j)):
 *
 * - a channel's spend changes at o - 1 only (spend is exogenous: its later spend is as observed);
 *   its adstock and Hill saturation are recomputed, so Delta f_j is exact;
 * - any other node's x_j(o - 1) changes (as if its noise e_j(o - 1) were larger), and the change
 *   runs on through its own autoregression and its children.
 *
 * The system is linear in f given the spend, so the change Delta x_i of every node over the steps
 * o .. o + H - 1 is exact (lib/analysis/truth.ts, `propagateChange`); it is converted to the model
 * scale against the panel's own trajectory, scale(x_i + Delta x_i) - scale(x_i), and
 * `values[j][i]` = mean over the H steps, the origins and the units of |change of i| / delta_j.
 * *Total*: every path counts. *Direct*: only j's own edge j -> i counts: every node other than j
 * and i keeps its unperturbed value, j evolves with its own perturbation and i's autoregression
 * carries i's change forward. A channel's own change is 0 (its later spend is unchanged); the
 * diagonal is computed, never scored. For the exact linear VAR of a linear panel written in the
 * model scale, the forecaster's AR-CIG equals this (test/analysis/true-influence.test.ts).
 *
 * Requirements: steps o .. o + H - 1 inside the panel (end the test window at T - H + 1, as the
 * evaluation does); the adstock is recomputed from the panel's first step, the one approximation
 * of lib/analysis/truth.ts (below 1e-4 of a step's spend 40 steps in).
 */
export function trueInfluence(panel: Panel, scaler: Scaler, config: Partial<InfluenceConfig> = {}): TrueInfluence {
  const what = "trueInfluence";
  const c: InfluenceConfig = { ...DEFAULT_INFLUENCE, ...config };
  const sys = generatorSystem(panel, what, TRUE_INFLUENCE_GENERATORS, "generateVarDag, generateSparseTarget or the bypass-prone generator");
  const { nodes: N, steps: T, channels: C } = sys;
  const H = c.horizon;
  if (!(Number.isInteger(H) && H >= 1)) throw new Error(`${what}: horizon must be a positive integer, got ${H}`);
  const delta = resolveDelta(c.delta, N, what);
  if (scaler.nodeNames.length !== N || scaler.nodeNames.some((n, i) => n !== panel.nodeNames[i])) {
    throw new Error(`${what}: the scaler was fitted on nodes [${scaler.nodeNames.join(", ")}], the panel has [${panel.nodeNames.join(", ")}]`);
  }
  const plan = planWindows(panel, c, { minHistory: 1, what });
  const late = plan.origins.find((o) => o + H > T);
  if (late !== undefined) {
    throw new Error(`${what}: origin ${late} needs steps ${late}..${late + H - 1} inside the panel's ${T} steps (end the test window at ${T - H + 1})`);
  }
  const at = (u: number, t: number, i: number) => panel.values[(u * T + t) * N + i];
  const sums = { direct: new InfluenceAccumulator(plan.units.length, N), total: new InfluenceAccumulator(plan.units.length, N) };

  plan.units.forEach((u, ui) => {
    const g = sys.graphOfUnit[u];
    const grp = scalerGroup(scaler, panel, u, what);
    const ch = unitChannels(sys, panel, u);
    // mean over the H steps o .. o + H - 1 (rows hold steps o - 1 .. o + H - 1) of |change of i| in the model scale
    const measure = (o: number, i: number, row: Float64Array) => {
      if (i < C) return 0;
      let s = 0;
      for (let h = 1; h <= H; h++) s += Math.abs(modelChange(scaler, i, at(u, o - 1 + h, i), row[h], grp));
      return s / H;
    };
    for (const o of plan.origins) {
      for (let j = 0; j < N; j++) {
        // the perturbation at o - 1: Delta f of channel j, or an added noise of node j
        const start = new Float64Array(H + 1);
        const d = rawChange(scaler, j, at(u, o - 1, j), delta[j], grp);
        if (j < C) {
          const s = Float64Array.from(ch.spend[j].subarray(0, o + H));
          s[o - 1] += d;
          const f = ch.transform(s, j);
          for (let h = 0; h <= H; h++) start[h] = f[o - 1 + h] - ch.f[j][o - 1 + h];
        } else start[0] = d;
        const rows = () => Array.from({ length: N }, (_, k) => (k === j ? Float64Array.from(start) : new Float64Array(H + 1)));
        const total = rows();
        propagateChange(sys, g, total);
        for (let i = 0; i < N; i++) {
          sums.total.add(ui, j, i, measure(o, i, total[i]) / delta[j]);
          if (i < C) continue;
          const direct = rows();
          propagateChange(sys, g, direct, [j, i]);
          sums.direct.add(ui, j, i, measure(o, i, direct[i]) / delta[j]);
        }
      }
    }
  });

  const matrix = (kind: "ar-cig-direct" | "ar-cig-total", acc: InfluenceAccumulator): TrueInfluenceMatrix => ({
    ...acc.result(kind, plan, H, [...delta]),
    source: "generator",
    generator: sys.generator,
  });
  return { direct: matrix("ar-cig-direct", sums.direct), total: matrix("ar-cig-total", sums.total) };
}
