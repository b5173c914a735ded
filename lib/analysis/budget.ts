/**
 * Response curves and budget allocation from a trained model, by intervention: what a model
 * predicts when spend is set, and the allocation of a budget that maximises its prediction, so
 * that a model's recommended budget can be judged against the true one (lib/analysis/truth.ts).
 * How an intervention is run, what it holds and its units: {@link InterventionConfig}; scales:
 * {@link ValueScale}; the optimiser: {@link optimiseBudget}. Tensor work runs in `tf.tidy` chunk
 * by chunk (`chunkRows` rows per forecaster call); no tensor outlives a call.
 */
import { tf } from "../tf";
import type { Scaler } from "../data/panel";
import { scaleValue, unscaleValue } from "../data/panel";
import type { Forecaster, ForecastInputs, RolloutFeed } from "../core/forecaster";
import type { SeriesData, WindowConfig, WindowPlan } from "../diagnostics/windows";
import { DEFAULT_WINDOWS, batchInputs, checkData, copyHistory, forChunks, planWindows, readAndDispose, resolveTarget } from "../diagnostics/windows";

// ---------------------------------------------------------------------------------------------
// Scales
// ---------------------------------------------------------------------------------------------

/**
 * Maps values between the raw scale (spend in currency, the KPI in its units) and the scale the
 * model reads and predicts. `unit` is the unit's index in the data passed to the analysis.
 *
 * Everything is on the scale of the data passed in (standardised panels for the neural models).
 * A ValueScale maps spend given on the raw scale to the model's input scale and the target
 * predictions back to raw, step by step (so a `log1p` target is summed on the raw scale);
 * {@link scalerScale} builds one from the data layer's fitted `Scaler`. Without a scale, levels,
 * allocations and responses are on the data's own scale. Multipliers of the observed spend are
 * applied on the raw scale, so give a scale when the data are standardised (a multiple of a
 * standardised value is not a multiple of spend).
 */
export interface ValueScale {
  /** Raw value of `node` -> the model's scale. */
  toModel(node: number, unit: number, raw: number): number;
  /** A value on the model's scale (a prediction) -> raw. */
  toRaw(node: number, unit: number, value: number): number;
}

/** No transformation: levels, allocations and responses on the data's own scale. */
export const IDENTITY_SCALE: ValueScale = {
  toModel: (_node, _unit, raw) => raw,
  toRaw: (_node, _unit, value) => value,
};

/**
 * The {@link ValueScale} of a fitted `Scaler` (lib/data/panel.ts `fitScaler`) for data scaled by
 * it: `scaleValue` / `unscaleValue` with the scaler group of each unit (scope "unit-node" looks
 * units up by `unitIds`, which the data must then carry, as a `Panel` does).
 */
export function scalerScale(scaler: Scaler, data: { units: number; nodeNames?: string[]; unitIds?: string[] }): ValueScale {
  if (data.nodeNames && (data.nodeNames.length !== scaler.nodeNames.length || data.nodeNames.some((n, i) => n !== scaler.nodeNames[i]))) {
    throw new Error(`scalerScale: the scaler was fitted on nodes [${scaler.nodeNames.join(", ")}], the data has [${data.nodeNames.join(", ")}]`);
  }
  let groups: number[];
  if (scaler.scope === "node") {
    groups = new Array<number>(data.units).fill(0);
  } else {
    if (!data.unitIds || data.unitIds.length !== data.units) {
      throw new Error(`scalerScale: a scaler of scope "unit-node" needs the data's unitIds (one per unit) to find each unit's statistics`);
    }
    const pos = new Map((scaler.unitIds ?? []).map((id, k) => [id, k]));
    groups = data.unitIds.map((id) => {
      const k = pos.get(id);
      if (k === undefined) throw new Error(`scalerScale: the scaler (scope "unit-node") was not fitted on unit "${id}"`);
      return k;
    });
  }
  const N = scaler.nodeNames.length;
  const check = (node: number, unit: number) => {
    if (!(Number.isInteger(node) && node >= 0 && node < N)) throw new Error(`scalerScale: node ${node} is not in 0..${N - 1}`);
    if (!(Number.isInteger(unit) && unit >= 0 && unit < groups.length)) throw new Error(`scalerScale: unit ${unit} is not in 0..${groups.length - 1}`);
  };
  return {
    toModel: (node, unit, raw) => {
      check(node, unit);
      return scaleValue(scaler, node, raw, groups[unit]);
    },
    toRaw: (node, unit, value) => {
      check(node, unit);
      return unscaleValue(scaler, node, value, groups[unit]);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Interventions
// ---------------------------------------------------------------------------------------------

/**
 * Windows and intervention settings shared by response curves, allocations and the budget glue.
 *
 * Intervention. For every window (unit u, origin o) of the data (the windows of the diagnostics:
 * `history` steps `[o - history, o)` teacher-forced, see `planWindows`), the spend of the
 * intervened channel(s) over the *horizon*, the H steps `o .. o + H - 1`, is set to the
 * scenario's value, the model is rolled out for `H + carryover` steps, and the model's target
 * predictions over those steps are added up (`measure: "sum"`, default) or averaged (`"mean"`).
 * The spend is imposed through the rollout feed of the {@link Forecaster} contract: at rollout
 * step h the fed value replaces the model's own prediction of step `o + h` as the next input.
 *
 * What is held, and how (our choice, stated once here):
 * - every *channel* node (role "channel", or `channels` of the config) is fed at every rollout
 *   step, so no channel ever follows the model's own forecast of spend: spend is a decision,
 *   not something the model predicts;
 * - channels that are not intervened on are held at their **observed** future values
 *   (`others: "observed"`, default; needs the data to hold `H + carryover` steps after each
 *   origin) or at their **last** history value (`others: "last"`, needs no future data);
 * - during the `carryover` steps after the horizon, the intervened channel returns to the same
 *   rule as the others (observed, or last), so a curve measures what the H steps of changed
 *   spend do, including their carry-over;
 * - intermediates and the target are the model's own rollout (nothing of them is fed).
 *
 * Timing: in every model of the study a step's value acts on the *next* steps, so the spend of
 * step `o + h` first moves the target prediction of step `o + h + 1`; the prediction of step `o`
 * does not depend on the intervention, and with `carryover = 0` the spend of the last horizon
 * step does not reach the measured target. Use `carryover >= 1` when it must.
 *
 * Units of spend. A *level* and an *allocation* are spend **per step**, constant over the H steps
 * of the horizon; a budget `total` is the sum over channels of spend per step (the spend of the
 * whole horizon is `total * H`). Responses are means over units of the mean over origins. Scales:
 * {@link ValueScale}.
 */
export interface InterventionConfig extends WindowConfig {
  /** H: steps o .. o + H - 1 whose spend is set. */
  horizon: number;
  /** Steps measured after the horizon (spend back to the `others` rule); default 0. */
  carryover: number;
  /** Target node index; default the node with role "target". */
  target?: number;
  /** The channel nodes (indices or names); default the nodes with role "channel". Every one is fed at every step. */
  channels?: ReadonlyArray<number | string>;
  /** Channels not intervened on: their observed future values, or their last history value. */
  others: "observed" | "last";
  /** Total or mean of the target over the `H + carryover` measured steps. */
  measure: "sum" | "mean";
  /** Raw <-> model scale of spend and target; default {@link IDENTITY_SCALE}. */
  scale?: ValueScale;
}

export const DEFAULT_INTERVENTION: InterventionConfig = { ...DEFAULT_WINDOWS, horizon: 7, carryover: 0, others: "observed", measure: "sum" };

/** What the windows and settings of an analysis resolved to (part of every result). */
export interface InterventionPlan {
  /** Target node index. */
  target: number;
  /** Channel nodes, in allocation order. */
  channels: number[];
  channelNames: string[];
  /** Units evaluated (indices into the data). */
  units: number[];
  /** Origins (absolute step of the first rollout step). */
  origins: number[];
  history: number;
  horizon: number;
  carryover: number;
  others: "observed" | "last";
  measure: "sum" | "mean";
}

/** Spend of one intervened channel over the horizon: a raw per-step level, a multiple of its observed raw spend, or its observed spend as it is. */
type Setting = { channel: number; level: number } | { channel: number; multiplier: number } | { channel: number; observed: true };
/** One scenario: the settings of the intervened channels (the other channels follow `others`). */
type Scenario = Setting[];

/** An analysis resolved against its forecaster and data: what every step of it reads. */
interface Resolved {
  forecaster: Forecaster;
  data: SeriesData;
  /** The calling function's name, for errors. */
  what: string;
  c: InterventionConfig;
  plan: WindowPlan;
  info: InterventionPlan;
  scale: ValueScale;
  /** Whether a node is a fed channel. */
  isChannel: boolean[];
}

function nodeName(data: SeriesData, i: number): string {
  return data.nodeNames?.[i] ?? `node ${i}`;
}

/** A node given by index or name -> its index; throws naming the known nodes otherwise. */
function resolveNode(data: SeriesData, node: number | string, what: string, kind: string): number {
  if (typeof node === "number") {
    if (!(Number.isInteger(node) && node >= 0 && node < data.nodes)) throw new Error(`${what}: ${kind} ${node} is not a node index in 0..${data.nodes - 1}`);
    return node;
  }
  const i = data.nodeNames ? data.nodeNames.indexOf(node) : -1;
  if (i < 0) {
    throw new Error(`${what}: unknown ${kind} "${node}" (nodes: ${data.nodeNames ? data.nodeNames.join(", ") : "the data has no nodeNames; give an index"})`);
  }
  return i;
}

/**
 * Checks the settings and plans the windows of an analysis; `needsFuture`: the windows must hold
 * `horizon + carryover` observed steps after each origin whatever `others` says.
 */
function resolveIntervention(
  forecaster: Forecaster,
  data: SeriesData,
  config: Partial<InterventionConfig>,
  options: { needsFuture: boolean; what: string },
): Resolved {
  const { needsFuture, what } = options;
  const c: InterventionConfig = { ...DEFAULT_INTERVENTION, ...config };
  checkData(data, forecaster.nodes, what);
  if (!(Number.isInteger(c.horizon) && c.horizon >= 1)) throw new Error(`${what}: horizon must be a positive integer, got ${c.horizon}`);
  if (!(Number.isInteger(c.carryover) && c.carryover >= 0)) throw new Error(`${what}: carryover must be a non-negative integer, got ${c.carryover}`);
  if (c.others !== "observed" && c.others !== "last") throw new Error(`${what}: others must be "observed" or "last", got ${JSON.stringify(c.others)}`);
  if (c.measure !== "sum" && c.measure !== "mean") throw new Error(`${what}: measure must be "sum" or "mean", got ${JSON.stringify(c.measure)}`);
  const target = resolveTarget(data, c.target, what);
  let channels: number[];
  if (c.channels) {
    channels = c.channels.map((ch) => resolveNode(data, ch, what, "channel"));
  } else {
    channels = (data.roles ?? []).flatMap((r, i) => (r === "channel" ? [i] : []));
    if (channels.length === 0) throw new Error(`${what}: the data has no node with role "channel"; give config.channels`);
  }
  if (new Set(channels).size !== channels.length) throw new Error(`${what}: channels [${channels.map((i) => nodeName(data, i)).join(", ")}] name a node twice`);
  if (channels.includes(target)) throw new Error(`${what}: the target "${nodeName(data, target)}" cannot be a channel`);
  const future = needsFuture || c.others === "observed";
  const plan = planWindows(data, c, { minHistory: forecaster.minHistory, lastOriginOffset: future ? c.horizon + c.carryover : 0, what });
  const isChannel = Array.from({ length: data.nodes }, (_, i) => channels.includes(i));
  const info: InterventionPlan = {
    target,
    channels,
    channelNames: channels.map((i) => nodeName(data, i)),
    units: plan.units,
    origins: plan.origins,
    history: plan.history,
    horizon: c.horizon,
    carryover: c.carryover,
    others: c.others,
    measure: c.measure,
  };
  return { forecaster, data, what, c, plan, info, scale: c.scale ?? IDENTITY_SCALE, isChannel };
}

/** Value of node i of unit u at step t (data's scale). */
function valueAt(data: SeriesData, u: number, t: number, i: number): number {
  return data.values[(u * data.steps + t) * data.nodes + i];
}

/** The model-scale spend a setting gives channel `s.channel` of unit u at step t. */
function settingValue(r: Resolved, s: Setting, u: number, t: number): number {
  const { data, what } = r;
  const ch = s.channel;
  if ("observed" in s) return valueAt(data, u, t, ch);
  const raw = "level" in s ? s.level : s.multiplier * r.scale.toRaw(ch, u, valueAt(data, u, t, ch));
  const z = r.scale.toModel(ch, u, raw);
  if (!Number.isFinite(z)) {
    const label = "level" in s ? `level ${s.level}` : `multiplier ${s.multiplier} (raw spend ${raw})`;
    throw new Error(
      `${what}: ${label} of channel "${nodeName(data, ch)}" maps to ${z} on the model's scale (outside the scale's domain, e.g. negative spend under log1p)`,
    );
  }
  return z;
}

/** Raw spend per step of each setting's channel: mean over windows and horizon steps. */
function meanSpend(r: Resolved, s: Setting | undefined, channel: number): number {
  const { data } = r;
  const { units, origins } = r.plan;
  const H = r.c.horizon;
  let sum = 0;
  for (const u of units) {
    for (const o of origins) {
      for (let h = 0; h < H; h++) {
        sum += s ? r.scale.toRaw(channel, u, settingValue(r, s, u, o + h)) : r.scale.toRaw(channel, u, valueAt(data, u, o + h, channel));
      }
    }
  }
  return sum / (units.length * origins.length * H);
}

/**
 * Runs every scenario on every window: rows = scenarios x windows (scenario-major), chunked.
 * Returns the measured raw target of each (scenario, window), [scenarios * windows], windows
 * unit-major over the plan.
 */
function runScenarios(r: Resolved, scenarios: Scenario[]): Float64Array {
  const { forecaster, data, what } = r;
  const N = data.nodes;
  const { units, origins, history } = r.plan;
  const O = origins.length;
  const W = units.length * O;
  const H = r.c.horizon;
  const L = H + r.c.carryover;
  const target = r.info.target;
  const out = new Float64Array(scenarios.length * W);
  forChunks(scenarios.length * W, r.c.chunkRows, (start, end) => {
    const B = end - start;
    const xv = new Float32Array(B * history * N);
    const fv = new Float32Array(B * L * N);
    const mv = new Float32Array(B * L * N);
    const rowUnits = new Int32Array(B);
    for (let row = start; row < end; row++) {
      const b = row - start;
      const sc = scenarios[Math.floor(row / W)];
      const w = row % W;
      const u = units[Math.floor(w / O)];
      const o = origins[w % O];
      rowUnits[b] = u;
      copyHistory(data, { unit: u, origin: o, history }, xv, b * history * N);
      for (let h = 0; h < L; h++) {
        const base = (b * L + h) * N;
        for (let i = 0; i < N; i++) {
          if (!r.isChannel[i]) continue;
          mv[base + i] = 1;
          fv[base + i] = r.c.others === "observed" ? valueAt(data, u, o + h, i) : valueAt(data, u, o - 1, i);
        }
        if (h < H) for (const s of sc) fv[base + s.channel] = settingValue(r, s, u, o + h);
      }
    }
    const pred = readAndDispose(
      tf.tidy(() => {
        const x = tf.tensor3d(xv, [B, history, N]);
        const inputs: ForecastInputs & { feed?: RolloutFeed } = batchInputs(data, r.c.graph, rowUnits, forecaster.acceptsGraph);
        inputs.feed = { values: tf.tensor3d(fv, [B, L, N]), mask: tf.tensor3d(mv, [B, L, N]) };
        const y = forecaster.rollout(x, L, inputs);
        if (y.shape[0] !== B || y.shape[1] !== L || y.shape[2] !== N) {
          throw new Error(`${what}: rollout returned shape [${y.shape}], expected [${B}, ${L}, ${N}]`);
        }
        return y.slice([0, 0, target], [B, L, 1]); // [B, L, 1]
      }),
    );
    for (let b = 0; b < B; b++) {
      const u = rowUnits[b];
      let s = 0;
      for (let h = 0; h < L; h++) s += r.scale.toRaw(target, u, pred[b * L + h]);
      const v = r.c.measure === "sum" ? s : s / L;
      if (!Number.isFinite(v)) {
        const where = `unit ${u}, origin ${origins[((start + b) % W) % O]}`;
        throw new Error(`${what}: the measured target of ${where} is ${v} (the model's rollout or the scale's inverse is not finite)`);
      }
      out[start + b] = v;
    }
  });
  return out;
}

/** Per-window results -> per unit (mean over origins) [scenario][unit] and the mean over units [scenario]. */
function aggregate(perWindow: Float64Array, S: number, plan: WindowPlan): { mean: number[]; perUnit: number[][] } {
  const O = plan.origins.length;
  const R = plan.units.length;
  const perUnit = Array.from({ length: S }, (_, s) =>
    Array.from({ length: R }, (_, ui) => {
      let a = 0;
      for (let k = 0; k < O; k++) a += perWindow[s * R * O + ui * O + k];
      return a / O;
    }),
  );
  return { mean: perUnit.map((p) => p.reduce((a, v) => a + v, 0) / R), perUnit };
}

// ---------------------------------------------------------------------------------------------
// Response curves
// ---------------------------------------------------------------------------------------------

/** A response curve: one channel's spend swept, everything else held ({@link InterventionConfig}). */
export interface ResponseCurveConfig extends InterventionConfig {
  /** The intervened channel (index or name); must be one of the channels. */
  channel: number | string;
  /** Spend per step over the horizon (raw scale when `scale` is given), one curve point each. */
  levels?: number[];
  /** Multiples of the observed raw spend of each horizon step, one curve point each. */
  multipliers?: number[];
}

export interface ResponseCurve extends InterventionPlan {
  /** The intervened channel. */
  channel: number;
  channelName: string;
  /** Whether `points` are levels or multipliers. */
  kind: "levels" | "multipliers";
  /** The levels or multipliers as given. */
  points: number[];
  /** Raw spend per step at each point: the level, or the mean over windows and horizon steps. */
  spend: number[];
  /** Measured target at each point (raw scale), mean over units of the mean over origins. */
  response: number[];
  /** perUnit[u][p]: the response of unit `units[u]` at point p. */
  perUnit: number[][];
  /** The channel at its observed spend over the horizon (the same windows and held channels). */
  baseline: { spend: number; response: number; perUnit: number[] };
}

/**
 * The response curve of one channel (see {@link InterventionConfig}): for each level (or multiplier),
 * the channel's spend over the horizon is set to it in every window, the other channels are held
 * (`others`), the model rolls out, and the target over the measured steps is taken.
 * data: values [units, steps, nodes] on the model's scale (a scaled Panel).
 */
export function responseCurve(
  forecaster: Forecaster,
  data: SeriesData,
  config: Partial<ResponseCurveConfig> & Pick<ResponseCurveConfig, "channel">,
): ResponseCurve {
  const what = "responseCurve";
  const hasLevels = config.levels !== undefined;
  const hasMult = config.multipliers !== undefined;
  if (hasLevels === hasMult) throw new Error(`${what}: give exactly one of levels or multipliers`);
  const points = (hasLevels ? config.levels : config.multipliers)!;
  if (points.length === 0) throw new Error(`${what}: ${hasLevels ? "levels" : "multipliers"} is empty`);
  points.forEach((p, k) => {
    if (!Number.isFinite(p)) throw new Error(`${what}: ${hasLevels ? "levels" : "multipliers"}[${k}] = ${p} is not finite`);
  });
  const r = resolveIntervention(forecaster, data, config, { needsFuture: true, what });
  const channel = resolveNode(data, config.channel, what, "channel");
  if (!r.isChannel[channel]) throw new Error(`${what}: "${nodeName(data, channel)}" is not one of the channels [${r.info.channelNames.join(", ")}]`);
  const settings: Setting[] = points.map((p) => (hasLevels ? { channel, level: p } : { channel, multiplier: p }));
  const scenarios: Scenario[] = [[{ channel, observed: true }], ...settings.map((s) => [s])];
  const agg = aggregate(runScenarios(r, scenarios), scenarios.length, r.plan);
  const perUnitByPoint = agg.perUnit.slice(1);
  return {
    ...r.info,
    channel,
    channelName: nodeName(data, channel),
    kind: hasLevels ? "levels" : "multipliers",
    points: [...points],
    spend: settings.map((s) => ("level" in s ? s.level : meanSpend(r, s, channel))),
    response: agg.mean.slice(1),
    perUnit: r.plan.units.map((_, ui) => perUnitByPoint.map((p) => p[ui])),
    baseline: { spend: meanSpend(r, undefined, channel), response: agg.mean[0], perUnit: agg.perUnit[0] },
  };
}

// ---------------------------------------------------------------------------------------------
// Allocations
// ---------------------------------------------------------------------------------------------

/** The target under full spend allocations (every channel's spend per step set). */
export interface AllocationResponses extends InterventionPlan {
  /** The allocations as given ([allocation][channel], spend per step, raw scale). */
  allocations: number[][];
  /** Measured target of each allocation, mean over units of the mean over origins. */
  values: number[];
  /** perUnit[u][a]: the value of unit `units[u]` under allocation a. */
  perUnit: number[][];
}

/** Throws unless an allocation has one finite value per channel. */
function checkAllocation(a: readonly number[], r: Resolved, label: string): void {
  const { what } = r;
  const n = r.info.channels.length;
  if (a.length !== n) throw new Error(`${what}: ${label} has ${a.length} entries, expected one per channel (${n}: ${r.info.channelNames.join(", ")})`);
  a.forEach((v, k) => {
    if (!Number.isFinite(v)) throw new Error(`${what}: ${label}[${k}] (channel "${r.info.channelNames[k]}") = ${v} is not finite`);
  });
}

/** The measured target under each allocation (every channel at its level), per unit and the mean over units. */
function evaluateAllocations(r: Resolved, allocations: readonly (readonly number[])[]): { mean: number[]; perUnit: number[][] } {
  allocations.forEach((a, k) => checkAllocation(a, r, `allocation ${k}`));
  const scenarios: Scenario[] = allocations.map((a) => r.info.channels.map((channel, k) => ({ channel, level: a[k] })));
  return aggregate(runScenarios(r, scenarios), scenarios.length, r.plan);
}

/**
 * The measured target under each of several allocations, batched in one set of rollouts.
 * allocations[a][k]: spend per step of channel `channels[k]` over the horizon.
 */
export function allocationResponses(
  forecaster: Forecaster,
  data: SeriesData,
  allocations: readonly (readonly number[])[],
  config: Partial<InterventionConfig> = {},
): AllocationResponses {
  const what = "allocationResponses";
  if (allocations.length === 0) throw new Error(`${what}: no allocation given`);
  const r = resolveIntervention(forecaster, data, config, { needsFuture: false, what });
  const agg = evaluateAllocations(r, allocations);
  return { ...r.info, allocations: allocations.map((a) => [...a]), values: agg.mean, perUnit: r.plan.units.map((_, ui) => agg.perUnit.map((p) => p[ui])) };
}

/** The target under one allocation, with the observed spend as a baseline. */
export interface AllocationResponse extends InterventionPlan {
  allocation: number[];
  value: number;
  perUnit: number[];
  /**
   * Observed spend: mean raw spend per step of each channel over the windows, and the target with
   * every channel at its observed spend over the horizon (after it, `others` as always).
   */
  observed: { allocation: number[]; value: number; perUnit: number[] };
}

/** The measured target when every channel's spend per step over the horizon is `allocation[k]`. */
export function allocationResponse(
  forecaster: Forecaster,
  data: SeriesData,
  allocation: readonly number[],
  config: Partial<InterventionConfig> = {},
): AllocationResponse {
  const what = "allocationResponse";
  const r = resolveIntervention(forecaster, data, config, { needsFuture: true, what });
  checkAllocation(allocation, r, "allocation");
  const scenarios: Scenario[] = [
    r.info.channels.map((channel) => ({ channel, observed: true as const })),
    r.info.channels.map((channel, k) => ({ channel, level: allocation[k] })),
  ];
  const agg = aggregate(runScenarios(r, scenarios), 2, r.plan);
  return {
    ...r.info,
    allocation: [...allocation],
    value: agg.mean[1],
    perUnit: agg.perUnit[1],
    observed: { allocation: r.info.channels.map((ch) => meanSpend(r, undefined, ch)), value: agg.mean[0], perUnit: agg.perUnit[0] },
  };
}

// ---------------------------------------------------------------------------------------------
// Projection onto the capped simplex
// ---------------------------------------------------------------------------------------------

/**
 * Checks the feasible set `{x : lower <= x <= upper, sum(x) = total}` and expands scalar bounds
 * to one per coordinate. Lower bounds must be finite, upper bounds may be +Infinity.
 */
export function resolveBounds(
  n: number,
  total: number,
  bounds: { lower?: number | readonly number[]; upper?: number | readonly number[] } = {},
  what = "budget",
): { lower: number[]; upper: number[] } {
  const { lower = 0, upper = Infinity } = bounds;
  if (!(Number.isInteger(n) && n >= 1)) throw new Error(`${what}: the number of channels must be a positive integer, got ${n}`);
  if (!Number.isFinite(total)) throw new Error(`${what}: total must be finite, got ${total}`);
  const expand = (b: number | readonly number[], name: string): number[] => {
    if (typeof b === "number") return new Array<number>(n).fill(b);
    if (b.length !== n) throw new Error(`${what}: ${name} has ${b.length} entries, expected ${n} (one per channel)`);
    return [...b];
  };
  const lo = expand(lower, "lower");
  const hi = expand(upper, "upper");
  for (let k = 0; k < n; k++) {
    if (!Number.isFinite(lo[k])) throw new Error(`${what}: lower[${k}] = ${lo[k]} must be finite`);
    if (Number.isNaN(hi[k]) || hi[k] === -Infinity) throw new Error(`${what}: upper[${k}] = ${hi[k]} must be a number or +Infinity`);
    if (hi[k] < lo[k]) throw new Error(`${what}: upper[${k}] = ${hi[k]} is below lower[${k}] = ${lo[k]}`);
  }
  const sLo = lo.reduce((a, v) => a + v, 0);
  const sHi = hi.reduce((a, v) => a + v, 0);
  const slack = 1e-12 * Math.max(1, Math.abs(total));
  if (sLo > total + slack) throw new Error(`${what}: infeasible bounds: the lower bounds sum to ${sLo}, more than the total ${total}`);
  if (sHi < total - slack) throw new Error(`${what}: infeasible bounds: the upper bounds sum to ${sHi}, less than the total ${total}`);
  return { lower: lo, upper: hi };
}

/**
 * Euclidean projection of y onto `{x : lower <= x <= upper, sum(x) = total}` (exact, sort-based):
 * `x_k = clip(y_k - lambda, lower_k, upper_k)` with the lambda at which the sum is `total`. The
 * sum `f(lambda)` is piecewise linear and non-increasing with breakpoints `y_k - upper_k` and
 * `y_k - lower_k`; the breakpoints are sorted, the segment holding `total` is found by binary
 * search, and lambda is solved on it. Bounds are checked by {@link resolveBounds}.
 */
export function projectCappedSimplex(
  y: readonly number[],
  total: number,
  lower: number | readonly number[] = 0,
  upper: number | readonly number[] = Infinity,
): number[] {
  const what = "projectCappedSimplex";
  const n = y.length;
  const b = resolveBounds(n, total, { lower, upper }, what);
  y.forEach((v, k) => {
    if (!Number.isFinite(v)) throw new Error(`${what}: y[${k}] = ${v} is not finite`);
  });
  const lo = b.lower;
  const hi = b.upper;
  const at = (lam: number): number => {
    let s = 0;
    for (let k = 0; k < n; k++) s += Math.min(hi[k], Math.max(lo[k], y[k] - lam));
    return s;
  };
  /** Coordinates strictly between their bounds for lambda in the open interval (a, c). */
  const freeCount = (a: number, c: number): number => {
    let m = 0;
    for (let k = 0; k < n; k++) if (y[k] - hi[k] <= a && c <= y[k] - lo[k]) m++;
    return m;
  };
  const bps = [...y.map((v, k) => v - lo[k]), ...y.flatMap((v, k) => (hi[k] < Infinity ? [v - hi[k]] : []))].sort((p, q) => p - q);
  // Largest index with f(bps[i]) >= total (f is non-increasing), or -1.
  let a = 0;
  let c = bps.length - 1;
  let idx = -1;
  while (a <= c) {
    const m = (a + c) >> 1;
    if (at(bps[m]) >= total) {
      idx = m;
      a = m + 1;
    } else {
      c = m - 1;
    }
  }
  let lam: number;
  if (idx < 0) {
    // total > f(min breakpoint): lambda lies left of every breakpoint, where the free
    // coordinates are those without an upper bound.
    const m = freeCount(-Infinity, bps[0]);
    lam = bps[0] - (total - at(bps[0])) / m; // m >= 1: resolveBounds ensured feasibility
  } else if (idx === bps.length - 1) {
    lam = bps[idx]; // f = sum(lower) = total there
  } else {
    const m = freeCount(bps[idx], bps[idx + 1]);
    lam = m > 0 ? bps[idx] + (at(bps[idx]) - total) / m : bps[idx];
  }
  const x = y.map((v, k) => Math.min(hi[k], Math.max(lo[k], v - lam)));
  // Put the rounding residual of the sum on the free coordinates (keeps every bound).
  const free = x.flatMap((v, k) => (v > lo[k] && v < hi[k] ? [k] : []));
  const res = total - x.reduce((s, v) => s + v, 0);
  if (free.length > 0 && res !== 0) for (const k of free) x[k] = Math.min(hi[k], Math.max(lo[k], x[k] + res / free.length));
  return x;
}

// ---------------------------------------------------------------------------------------------
// Optimiser
// ---------------------------------------------------------------------------------------------

/** Configuration of {@link optimiseBudget}. */
export interface OptimiserConfig {
  /** Budget: the allocation must sum to it. */
  total: number;
  /** Lower bound per channel (or one for all); default 0. */
  lower?: number | readonly number[];
  /** Upper bound per channel (or one for all); default +Infinity. */
  upper?: number | readonly number[];
  /** Starting allocation (projected onto the feasible set); default the projection of an even split. */
  start?: readonly number[];
  /** Analytic gradient; default finite differences of the objective ({@link finiteDifferenceGradient}). */
  gradient?: (x: number[]) => number[];
  /**
   * The objective at many points in one call (e.g. one batch of rollouts), used for the
   * finite-difference points; default: the objective point by point.
   */
  objectiveMany?: (xs: number[][]) => number[];
  /** Finite-difference step; default `1e-6 * max(1, total - sum(lower))`. */
  fdStep?: number;
  /** Iteration limit. */
  maxIter: number;
  /** Stop when the relative stationarity measure (see {@link BudgetResult.stationarity}) is <= tol. */
  tol: number;
  /** Armijo constant of the line search. */
  armijo: number;
  /** Step halvings per line search before giving up. */
  maxBacktrack: number;
}

export const DEFAULT_OPTIMISER: Omit<OptimiserConfig, "total"> = { maxIter: 500, tol: 1e-7, armijo: 1e-4, maxBacktrack: 40 };

/** One iteration of the optimiser. */
export interface OptimiserStep {
  iteration: number;
  value: number;
  /** Step length of the accepted move (0 for the start). */
  step: number;
  stationarity: number;
}

/** The optimum found by {@link optimiseBudget}. */
export interface BudgetResult {
  /** The best allocation (within the bounds, summing to the total). */
  allocation: number[];
  value: number;
  iterations: number;
  /** Objective evaluations, finite differences included. */
  evaluations: number;
  /** Whether the stationarity measure reached `tol`. */
  converged: boolean;
  stopReason: "stationary" | "maxIter" | "noProgress";
  /**
   * `max_k |x_k - P(x + s g)_k| / span` with `s = span / max|g|` and `span = total - sum(lower)`:
   * how far a step that could move the whole free budget still moves x, relative to that
   * budget; 0 exactly at a KKT point (the gradient equal on the free channels, lower on channels
   * at their lower bound, higher at their upper bound).
   */
  stationarity: number;
  history: OptimiserStep[];
}

/**
 * Finite-difference gradient of f at x evaluated in one batch (`evaluateMany` gets every
 * perturbed point at once): central differences with step h (`box.step`), forward or backward where the
 * central points would leave `[lower, upper]`, h shrunk to half the box where the box is
 * narrower than 2h (bounds `box.lower`, `box.upper`), 0 for a coordinate whose bounds coincide. `fx` is f(x), used by the
 * one-sided differences. Returns the gradient and the number of evaluations.
 */
export function finiteDifferenceGradient(
  evaluateMany: (xs: number[][]) => number[],
  x: readonly number[],
  fx: number,
  box: { step: number; lower: readonly number[]; upper: readonly number[] },
): { gradient: number[]; evaluations: number } {
  const { step, lower, upper } = box;
  if (!(Number.isFinite(step) && step > 0)) throw new Error(`finiteDifferenceGradient: step must be a positive finite number, got ${step}`);
  const n = x.length;
  const pts: number[][] = [];
  const plan: { plus: number; minus: number; h: number }[] = [];
  const push = (k: number, d: number): number => {
    const p = [...x];
    p[k] += d;
    pts.push(p);
    return pts.length - 1;
  };
  for (let k = 0; k < n; k++) {
    const h = Math.min(step, (upper[k] - lower[k]) / 2);
    if (!(h > 0)) {
      plan.push({ plus: -1, minus: -1, h: 0 });
      continue;
    }
    const canUp = x[k] + h <= upper[k];
    const canDown = x[k] - h >= lower[k];
    if (canUp && canDown) plan.push({ plus: push(k, h), minus: push(k, -h), h: 2 * h });
    else if (canUp) plan.push({ plus: push(k, h), minus: -1, h });
    else plan.push({ plus: -1, minus: push(k, -h), h });
  }
  const f = pts.length > 0 ? evaluateMany(pts) : [];
  if (f.length !== pts.length) throw new Error(`finiteDifferenceGradient: evaluateMany returned ${f.length} values for ${pts.length} points`);
  const gradient = plan.map((p) => {
    if (p.h === 0) return 0;
    const up = p.plus >= 0 ? f[p.plus] : fx;
    const down = p.minus >= 0 ? f[p.minus] : fx;
    return (up - down) / p.h;
  });
  return { gradient, evaluations: pts.length };
}

/** Checks the optimiser's settings; returns the bounds expanded to one per channel. */
function checkOptimiser(c: OptimiserConfig, n: number, what: string): { lower: number[]; upper: number[] } {
  if (!Number.isFinite(c.total) || c.total < 0) throw new Error(`${what}: total must be a finite number >= 0, got ${c.total}`);
  const bounds = resolveBounds(n, c.total, { lower: c.lower ?? 0, upper: c.upper ?? Infinity }, what);
  if (!(Number.isInteger(c.maxIter) && c.maxIter >= 0)) throw new Error(`${what}: maxIter must be a non-negative integer, got ${c.maxIter}`);
  if (!(c.tol >= 0)) throw new Error(`${what}: tol must be >= 0, got ${c.tol}`);
  if (!(c.armijo > 0 && c.armijo < 1)) throw new Error(`${what}: armijo must be in (0, 1), got ${c.armijo}`);
  if (!(Number.isInteger(c.maxBacktrack) && c.maxBacktrack >= 1)) throw new Error(`${what}: maxBacktrack must be a positive integer, got ${c.maxBacktrack}`);
  if (c.start && c.start.length !== n) throw new Error(`${what}: start has ${c.start.length} entries, expected ${n}`);
  return bounds;
}

/** The objective, its batched form and its gradient as the optimiser calls them: checked for finiteness, evaluations counted. */
interface CountedObjective {
  f: (x: number[]) => number;
  grad: (x: number[], fx: number) => number[];
  /** Objective evaluations so far, finite differences included. */
  evaluations: () => number;
}

/** Wraps the objective (and `objectiveMany`, `gradient` or finite differences) for {@link optimiseBudget}. */
function countedObjective(
  objective: (x: number[]) => number,
  c: OptimiserConfig,
  box: { n: number; lower: number[]; upper: number[]; fdStep: number },
  what: string,
): CountedObjective {
  const { n, lower, upper, fdStep } = box;
  let evaluations = 0;
  const checked = (v: number, x: readonly number[]): number => {
    if (!Number.isFinite(v)) throw new Error(`${what}: the objective is ${v} at [${x.join(", ")}]`);
    return v;
  };
  const f = (x: number[]): number => {
    evaluations++;
    return checked(objective([...x]), x);
  };
  const fMany = (xs: number[][]): number[] => {
    if (!c.objectiveMany) return xs.map((p) => f(p));
    evaluations += xs.length;
    const vs = c.objectiveMany(xs.map((p) => [...p]));
    if (vs.length !== xs.length) throw new Error(`${what}: objectiveMany returned ${vs.length} values for ${xs.length} points`);
    return vs.map((v, k) => checked(v, xs[k]));
  };
  const grad = (x: number[], fx: number): number[] => {
    let g: number[];
    if (c.gradient) {
      g = c.gradient([...x]);
    } else {
      const r = finiteDifferenceGradient(fMany, x, fx, { step: fdStep, lower, upper });
      g = r.gradient;
    }
    if (g.length !== n || g.some((v) => !Number.isFinite(v))) {
      throw new Error(`${what}: the gradient at [${x.join(", ")}] is [${g.join(", ")}], expected ${n} finite numbers`);
    }
    return g;
  };
  return { f, grad, evaluations: () => evaluations };
}

/**
 * Maximises `objective` over `{x : lower <= x <= upper, sum(x) = total}` (n channels) by
 * projected gradient ascent with Armijo backtracking along the projection arc. The objective must
 * be deterministic; NaN or infinite values are errors.
 *
 * The capped simplex is searched by projected gradient ascent: gradients analytic when given,
 * else central finite differences (one-sided at a bound), an Armijo backtracking line search
 * along the projection arc, and an exact sort-based Euclidean projection onto the capped simplex
 * ({@link projectCappedSimplex}). For a concave objective every stationary point is a global
 * maximum; for a non-concave one (S-shaped Hill curves) it finds a local one. Written here rather
 * than taken from npm: of the candidates on the registry (`nlopt-js` 0.1.1, an Emscripten port
 * without TypeScript types; `fmin` 0.0.4 and `optimization-js` 1.5.0, both unconstrained, the
 * latter with build tools as runtime dependencies) none handles an equality-plus-bounds
 * constraint with TypeScript types and a maintained release, and the method needed is short
 * enough to test completely.
 */
export function optimiseBudget(objective: (x: number[]) => number, n: number, config: Partial<OptimiserConfig> & Pick<OptimiserConfig, "total">): BudgetResult {
  const what = "optimiseBudget";
  const c: OptimiserConfig = { ...DEFAULT_OPTIMISER, ...config };
  const { lower, upper } = checkOptimiser(c, n, what);
  const span = c.total - lower.reduce((a, v) => a + v, 0);
  const fdStep = c.fdStep ?? 1e-6 * Math.max(1, span);
  const project = (y: readonly number[]) => projectCappedSimplex(y, c.total, lower, upper);
  const { f, grad, evaluations } = countedObjective(objective, c, { n, lower, upper, fdStep }, what);
  const gmax = (g: number[]) => Math.max(...g.map(Math.abs));
  const stationarity = (x: number[], g: number[]): number => {
    const m = gmax(g);
    if (span <= 0 || m === 0) return 0;
    const p = project(x.map((v, k) => v + (span / m) * g[k]));
    return Math.max(...p.map((v, k) => Math.abs(v - x[k]))) / span;
  };

  let x = project(c.start ?? new Array<number>(n).fill(c.total / n));
  let fx = f(x);
  const history: OptimiserStep[] = [];
  if (span <= 0) {
    // One feasible point: every channel at its lower bound.
    history.push({ iteration: 0, value: fx, step: 0, stationarity: 0 });
    return { allocation: x, value: fx, iterations: 0, evaluations: evaluations(), converged: true, stopReason: "stationary", stationarity: 0, history };
  }
  let g = grad(x, fx);
  let stat = stationarity(x, g);
  history.push({ iteration: 0, value: fx, step: 0, stationarity: stat });
  let t = gmax(g) > 0 ? (0.1 * span) / gmax(g) : 1;
  let iterations = 0;
  let stopReason: BudgetResult["stopReason"] = "maxIter";
  while (true) {
    if (stat <= c.tol) {
      stopReason = "stationary";
      break;
    }
    if (iterations >= c.maxIter) {
      stopReason = "maxIter";
      break;
    }
    // Armijo backtracking along the projection arc.
    let accepted = false;
    let xn = x;
    let fn = fx;
    for (let b = 0; b < c.maxBacktrack; b++) {
      xn = project(x.map((v, k) => v + t * g[k]));
      const d = xn.map((v, k) => v - x[k]);
      if (Math.max(...d.map(Math.abs)) <= 1e-15 * span) break; // the step no longer moves x
      fn = f(xn);
      const gain = d.reduce((s, v, k) => s + v * g[k], 0);
      if (fn >= fx + c.armijo * gain) {
        accepted = true;
        break;
      }
      t /= 2;
    }
    if (!accepted) {
      stopReason = "noProgress";
      break;
    }
    iterations++;
    x = xn;
    fx = fn;
    g = grad(x, fx);
    stat = stationarity(x, g);
    history.push({ iteration: iterations, value: fx, step: t, stationarity: stat });
    t *= 2;
  }
  return {
    allocation: x,
    value: fx,
    iterations,
    evaluations: evaluations(),
    converged: stopReason === "stationary",
    stopReason,
    stationarity: stat,
    history,
  };
}

// ---------------------------------------------------------------------------------------------
// Budget from a forecaster
// ---------------------------------------------------------------------------------------------

/** Configuration of {@link budgetFromForecaster}: the intervention settings plus the optimiser's. */
export type ForecasterBudgetConfig = Partial<InterventionConfig> &
  Partial<Omit<OptimiserConfig, "gradient" | "objectiveMany">> &
  Pick<OptimiserConfig, "total">;

/**
 * Optimiser settings of the glue: the forecaster computes in float32, so finite differences use
 * a larger step (`1e-2 * span / channels`, see {@link budgetFromForecaster}) and the tolerance is
 * looser than for a float64 objective: much tighter, and the rounding noise of the rollouts
 * stops the line search first (the result then says so: `stopReason: "noProgress"`).
 */
export const DEFAULT_FORECASTER_BUDGET: Pick<OptimiserConfig, "tol" | "maxIter"> = { tol: 1e-3, maxIter: 200 };

/** The optimal allocation of a forecaster, with the observed spend for comparison. */
export interface ForecasterBudget extends BudgetResult {
  /** Channels (allocation order), target, windows and intervention settings. */
  plan: InterventionPlan;
  /** Observed spend: mean raw spend per step of each channel, and the target under that constant allocation. */
  observed: { allocation: number[]; total: number; value: number };
}

/**
 * The budget optimiser on a forecaster: objective(x) = measured target under the allocation x
 * (spend per step of each channel over the horizon, {@link allocationResponses}), maximised under
 * `sum(x) = total` and the bounds. Finite-difference gradients are evaluated in one batch of
 * rollouts per iteration; the default step is `1e-2 * (total - sum(lower)) / channels`.
 * data: values [units, steps, nodes] on the model's scale; give `scale` to optimise raw spend.
 */
export function budgetFromForecaster(forecaster: Forecaster, data: SeriesData, config: ForecasterBudgetConfig): ForecasterBudget {
  const what = "budgetFromForecaster";
  if (!Number.isFinite(config.total) || config.total < 0) throw new Error(`${what}: total must be a finite number >= 0, got ${config.total}`);
  const r = resolveIntervention(forecaster, data, config, { needsFuture: true, what });
  const n = r.info.channels.length;
  const { lower, upper } = resolveBounds(n, config.total, { lower: config.lower ?? 0, upper: config.upper ?? Infinity }, what);
  const span = config.total - lower.reduce((a, v) => a + v, 0);
  const fdStep = config.fdStep ?? (1e-2 * Math.max(span, 1e-12)) / n;
  const many = (xs: number[][]): number[] => evaluateAllocations(r, xs).mean;
  const res = optimiseBudget((x) => many([x])[0], n, {
    ...DEFAULT_FORECASTER_BUDGET,
    ...config,
    lower,
    upper,
    gradient: undefined,
    objectiveMany: many,
    fdStep,
  });
  // The observed spend as a constant allocation, for comparison.
  const obsAlloc = r.info.channels.map((ch) => meanSpend(r, undefined, ch));
  const obsValue = many([obsAlloc])[0];
  return { ...res, plan: r.info, observed: { allocation: obsAlloc, total: obsAlloc.reduce((a, v) => a + v, 0), value: obsValue } };
}
