/**
 * The panel: the one data structure every model and diagnostic of the study reads ({@link Panel}),
 * and what every consumer of a panel needs: validation ({@link validatePanel}), time and seeded
 * unit splits, copies of a part of a panel, per-node scalers fitted on the training window only
 * ({@link fitScaler}), degeneracy measures ({@link distinctSeries}) and the small descriptions
 * of a panel that the notebooks print ({@link describeSize} and its kin).
 */
import type { Graph } from "../graph";
import { findCycle } from "../graph";
import { Rng } from "../rng";
import { DataError } from "./errors";

/** The role of a node in the marketing funnel. */
export type NodeRole = "channel" | "intermediate" | "target";

/** Where a panel came from: enough to regenerate or re-load it. */
export interface Provenance {
  /** Generator or loader name, e.g. "var-dag", "causalmmm-sim", "csv". */
  generator: string;
  /** Every parameter the generator used (JSON-serialisable). */
  params: Record<string, unknown>;
  /** The seed, for generated panels. */
  seed?: number;
  /** Source file(s), for loaded panels. */
  source?: string;
  /** What was done to the panel after it was generated or loaded (subset, slice, scale...), in order. */
  history?: ProvenanceStep[];
}

/** One operation applied to a panel after generation or loading. */
export interface ProvenanceStep {
  op: string;
  args: Record<string, unknown>;
}

/**
 * A panel: R units (shops, regions), N nodes (media channels, optional intermediates, one
 * target), T steps. Values are a dense row-major Float32Array with shape `[units, steps, nodes]`.
 */
export interface Panel {
  /** values: [units, steps, nodes], row-major. */
  values: Float32Array;
  units: number;
  steps: number;
  nodes: number;
  nodeNames: string[];
  roles: NodeRole[];
  unitIds: string[];
  /** Optional context per unit. values: [units, k]. */
  context?: { values: Float32Array; names: string[] };
  /**
   * Optional true graphs. `graphs[graphOfUnit[u]]` is unit u's graph (`G[j][i] = 1`: j -> i).
   * A single shared graph is `graphs = [G]`, `graphOfUnit` all zeros.
   */
  truth?: { graphs: Graph[]; graphOfUnit: number[] };
  /**
   * Optional label of each step (length `steps`): the time column of a loaded file (an integer
   * or an ISO date `YYYY-MM-DD`). Generated panels leave it out (steps are 0..T-1).
   */
  timeLabels?: string[];
  provenance: Provenance;
}

/** Index of node `i` at step `t` of unit `u` in `panel.values`. */
export function at(panel: Pick<Panel, "steps" | "nodes">, u: number, t: number, i: number): number {
  return (u * panel.steps + t) * panel.nodes + i;
}

/**
 * 1 where j -> i may be an edge (`[j][i]`): off the diagonal and, with roles given, not into a
 * channel (spend is set by the advertiser) and not out of the target.
 */
export function allowedPairs(nodes: number, roles: readonly NodeRole[] | null): Graph {
  return Array.from({ length: nodes }, (_, j) =>
    Array.from({ length: nodes }, (_, i) => (i !== j && !(roles && (roles[i] === "channel" || roles[j] === "target")) ? 1 : 0)),
  );
}

/** Index of the target node; throws unless exactly one node has role "target". */
export function targetIndex(panel: Pick<Panel, "roles" | "nodeNames">): number {
  const idx = panel.roles.flatMap((r, i) => (r === "target" ? [i] : []));
  if (idx.length !== 1) {
    throw new Error(`panel must have exactly one target node, found ${idx.length} (${idx.map((i) => panel.nodeNames[i]).join(", ") || "none"})`);
  }
  return idx[0];
}

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

/** Index of the node called `name`; throws a `DataError` naming the closest node otherwise. */
export function nodeIndex(panel: Pick<Panel, "nodeNames" | "provenance">, name: string): number {
  const i = panel.nodeNames.indexOf(name);
  if (i < 0) throw new DataError({ file: panelLabel(panel), column: name }, `no node "${name}" (nodes: ${panel.nodeNames.join(", ")})`);
  return i;
}

/** Indices of the nodes with a role. */
export function nodesWithRole(panel: Pick<Panel, "roles">, role: NodeRole): number[] {
  return panel.roles.flatMap((r, i) => (r === role ? [i] : []));
}

/** The label errors about an in-memory panel use as their "file": the source file, or `<panel generator>`. */
export function panelLabel(panel: Pick<Panel, "provenance">): string {
  return panel.provenance.source ?? `<panel ${panel.provenance.generator}>`;
}

/** A copy of the provenance with one more history step. */
function withStep(p: Provenance, op: string, args: Record<string, unknown>): Provenance {
  return { ...p, history: [...(p.history ?? []), { op, args }] };
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

/** What `validatePanel` checks beyond shape consistency and finite values. */
export interface PanelValidationOptions {
  /** Every true graph must be acyclic (default true). */
  requireDag: boolean;
  /** Channel values must be >= 0 (raw spend). Default false: standardised panels are negative. */
  nonNegativeChannels: boolean;
  /** No true edge may leave the target (default false). */
  targetIsSink: boolean;
  /** Minimum number of steps (lag window + horizon); default 1. */
  minSteps: number;
}

export const DEFAULT_PANEL_VALIDATION: PanelValidationOptions = {
  requireDag: true,
  nonNegativeChannels: false,
  targetIsSink: false,
  minSteps: 1,
};

const ROLES: readonly NodeRole[] = ["channel", "intermediate", "target"];

/**
 * Checks that a panel is internally consistent; throws a `DataError` naming the panel (its
 * source file or generator), the node ("column") and the unit / step otherwise:
 * - `values.length = units * steps * nodes`, every value finite;
 * - `nodeNames`, `roles` (length N, valid, exactly one target, unique names), `unitIds`
 *   (length R, unique), `timeLabels` (length T when present);
 * - context `[units, k]` finite with k names; truth graphs N x N with 0/1 entries, zero
 *   diagonal, acyclic when required, `graphOfUnit` of length R pointing at a graph.
 * Returns the panel for chaining.
 */
export function validatePanel(panel: Panel, options: Partial<PanelValidationOptions> = {}): Panel {
  const opt = { ...DEFAULT_PANEL_VALIDATION, ...options };
  const file = panelLabel(panel);
  const fail = (detail: string, column?: string): never => {
    throw new DataError({ file, column }, detail);
  };
  const { units: R, steps: T, nodes: N } = panel;
  for (const [k, v] of [
    ["units", R],
    ["steps", T],
    ["nodes", N],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) fail(`${k} must be a positive integer, got ${v}`);
  }
  if (!(panel.values instanceof Float32Array)) fail("values must be a Float32Array");
  if (panel.values.length !== R * T * N) fail(`values has ${panel.values.length} entries, expected units*steps*nodes = ${R}*${T}*${N} = ${R * T * N}`);
  if (T < opt.minSteps) fail(`the panel has ${T} steps, fewer than the required minimum ${opt.minSteps} (lag window + horizon)`);
  if (panel.nodeNames.length !== N) fail(`nodeNames has ${panel.nodeNames.length} names, expected ${N}`);
  if (panel.roles.length !== N) fail(`roles has ${panel.roles.length} entries, expected ${N}`);
  const seen = new Set<string>();
  panel.nodeNames.forEach((name, i) => {
    if (typeof name !== "string" || name === "") fail(`node ${i} has an empty name`);
    if (seen.has(name)) fail(`node name "${name}" appears twice`, name);
    seen.add(name);
    if (!ROLES.includes(panel.roles[i])) fail(`role "${panel.roles[i]}" is not one of ${ROLES.join(", ")}`, name);
  });
  const targets = nodesWithRole(panel, "target");
  if (targets.length !== 1) fail(`exactly one node must have role "target", found ${targets.length}`);
  if (panel.unitIds.length !== R) fail(`unitIds has ${panel.unitIds.length} ids, expected ${R}`);
  const ids = new Set<string>();
  for (const id of panel.unitIds) {
    if (ids.has(id)) fail(`unit id "${id}" appears twice`);
    ids.add(id);
  }
  if (panel.timeLabels !== undefined && panel.timeLabels.length !== T) fail(`timeLabels has ${panel.timeLabels.length} labels, expected ${T}`);
  const v = panel.values;
  for (let k = 0; k < v.length; k++) {
    const x = v[k];
    const i = k % N;
    if (!Number.isFinite(x)) {
      const u = Math.floor(k / (T * N));
      fail(`value ${x} at unit "${panel.unitIds[u]}", step ${Math.floor(k / N) % T}: values must be finite`, panel.nodeNames[i]);
    }
    if (opt.nonNegativeChannels && x < 0 && panel.roles[i] === "channel") {
      const u = Math.floor(k / (T * N));
      fail(`negative spend ${x} at unit "${panel.unitIds[u]}", step ${Math.floor(k / N) % T}`, panel.nodeNames[i]);
    }
  }
  if (panel.context) {
    const k = panel.context.names.length;
    if (k < 1) fail("context has no names");
    if (panel.context.values.length !== R * k) fail(`context has ${panel.context.values.length} values, expected units*k = ${R}*${k}`);
    panel.context.values.forEach((x, idx) => {
      if (!Number.isFinite(x)) fail(`context value ${x} at unit "${panel.unitIds[Math.floor(idx / k)]}" must be finite`, panel.context!.names[idx % k]);
    });
  }
  if (panel.truth) {
    const { graphs, graphOfUnit } = panel.truth;
    if (graphs.length < 1) fail("truth has no graphs");
    graphs.forEach((g, gi) => {
      if (g.length !== N) fail(`truth graph ${gi} has ${g.length} rows, expected ${N}`);
      g.forEach((row, j) => {
        if (row.length !== N) fail(`truth graph ${gi} row ${j} has ${row.length} entries, expected ${N}`, panel.nodeNames[j]);
        row.forEach((x, i) => {
          if (x !== 0 && x !== 1) fail(`truth graph ${gi} entry ${panel.nodeNames[j]} -> ${panel.nodeNames[i]} is ${x}, expected 0 or 1`, panel.nodeNames[j]);
          if (i === j && x !== 0) {
            fail(`truth graph ${gi} has a self-loop on "${panel.nodeNames[j]}" (the diagonal is never part of a graph)`, panel.nodeNames[j]);
          }
          if (opt.targetIsSink && x && j === targets[0]) {
            fail(`truth graph ${gi} has an edge out of the target: ${panel.nodeNames[j]} -> ${panel.nodeNames[i]}`, panel.nodeNames[j]);
          }
        });
      });
      if (opt.requireDag) {
        const cyc = findCycle(g);
        if (cyc) fail(`truth graph ${gi} has a cycle: ${cyc.map((c) => panel.nodeNames[c]).join(" -> ")}`, panel.nodeNames[cyc[0]]);
      }
    });
    if (graphOfUnit.length !== R) fail(`truth.graphOfUnit has ${graphOfUnit.length} entries, expected ${R}`);
    graphOfUnit.forEach((g, u) => {
      if (!Number.isInteger(g) || g < 0 || g >= graphs.length) fail(`truth.graphOfUnit[${u}] = ${g} is not a graph index in 0..${graphs.length - 1}`);
    });
  }
  return panel;
}

// ---------------------------------------------------------------------------------------------
// Splits
// ---------------------------------------------------------------------------------------------

/** A half-open step range `[from, to)`. */
export interface StepRange {
  from: number;
  to: number;
  /** `to - from`. */
  length: number;
}

/**
 * Time split: consecutive train, validation and test windows. `by: "fraction"`: the three numbers
 * are shares of T summing to 1 (train and validation rounded to whole steps, test takes the
 * rest); `by: "count"`: numbers of steps summing to T.
 */
export interface TimeSplitConfig {
  by: "fraction" | "count";
  train: number;
  validation: number;
  test: number;
}

export const DEFAULT_TIME_SPLIT: TimeSplitConfig = { by: "fraction", train: 0.7, validation: 0.1, test: 0.2 };

/**
 * Train / validation / test windows over the time axis. The windows are contiguous and cover
 * every step; forecasting models teacher-force through the steps before a window's `from`
 * (the lag window), so nothing of a later window leaks into fitting an earlier one.
 */
export interface TimeSplit {
  train: StepRange;
  validation: StepRange;
  test: StepRange;
  config: TimeSplitConfig;
}

/** Splits `steps` (or a panel's steps) into train / validation / test windows. */
export function splitTime(stepsOrPanel: number | Pick<Panel, "steps">, config: Partial<TimeSplitConfig> = {}): TimeSplit {
  const T = typeof stepsOrPanel === "number" ? stepsOrPanel : stepsOrPanel.steps;
  const c = { ...DEFAULT_TIME_SPLIT, ...config };
  const bad = (d: string): never => {
    throw new Error(`splitTime: ${d} (config ${JSON.stringify(c)}, T = ${T})`);
  };
  if (!Number.isInteger(T) || T < 1) bad("T must be a positive integer");
  for (const k of ["train", "validation", "test"] as const) if (!(c[k] >= 0)) bad(`${k} must be >= 0`);
  let nTrain: number, nVal: number, nTest: number;
  if (c.by === "fraction") {
    const sum = c.train + c.validation + c.test;
    if (Math.abs(sum - 1) > 1e-9) bad(`fractions must sum to 1, got ${sum}`);
    nTrain = Math.round(T * c.train);
    nVal = Math.round(T * c.validation);
    nTest = T - nTrain - nVal;
    if (nTest < 0) bad("rounding left a negative test window");
  } else if (c.by === "count") {
    for (const k of ["train", "validation", "test"] as const) if (!Number.isInteger(c[k])) bad(`${k} must be an integer step count`);
    if (c.train + c.validation + c.test !== T) bad(`counts must sum to T`);
    [nTrain, nVal, nTest] = [c.train, c.validation, c.test];
  } else {
    return bad(`by must be "fraction" or "count"`);
  }
  if (nTrain < 1) bad("the training window is empty");
  const r = (from: number, length: number): StepRange => ({ from, to: from + length, length });
  return { train: r(0, nTrain), validation: r(nTrain, nVal), test: r(nTrain + nVal, nTest), config: c };
}

/** Unit split: shares of units for train / validation / test, shuffled with a seed. */
export interface UnitSplitConfig {
  train: number;
  validation: number;
  test: number;
  /** Seed of the shuffle (the official CausalMMM code uses 100, with NumPy's generator). */
  seed: number;
  /** Shuffle before splitting (default true); false keeps the panel's unit order. */
  shuffle: boolean;
}

/**
 * 80/20 with seed 100 like the official CausalMMM code. Our generator is not NumPy's, so the
 * same seed picks different units than the official code does.
 */
export const DEFAULT_UNIT_SPLIT: UnitSplitConfig = { train: 0.8, validation: 0, test: 0.2, seed: 100, shuffle: true };

/** Unit indices of each part (each sorted ascending). */
export interface UnitSplit {
  train: number[];
  validation: number[];
  test: number[];
  config: UnitSplitConfig;
}

/** Splits `units` (or a panel's units) at random into train / validation / test index sets. */
export function splitUnits(unitsOrPanel: number | Pick<Panel, "units">, config: Partial<UnitSplitConfig> = {}): UnitSplit {
  const R = typeof unitsOrPanel === "number" ? unitsOrPanel : unitsOrPanel.units;
  const c = { ...DEFAULT_UNIT_SPLIT, ...config };
  const sum = c.train + c.validation + c.test;
  if (!Number.isInteger(R) || R < 1) throw new Error(`splitUnits: units must be a positive integer, got ${R}`);
  if (Math.abs(sum - 1) > 1e-9 || c.train < 0 || c.validation < 0 || c.test < 0) {
    throw new Error(`splitUnits: fractions must be >= 0 and sum to 1, got ${JSON.stringify(c)}`);
  }
  const order = Array.from({ length: R }, (_, u) => u);
  if (c.shuffle) new Rng(c.seed).shuffle(order);
  const nTrain = Math.round(R * c.train);
  const nVal = Math.round(R * c.validation);
  if (nTrain < 1) throw new Error(`splitUnits: no training units (R = ${R}, train = ${c.train})`);
  if (nTrain + nVal > R) throw new Error(`splitUnits: rounding gave more train + validation units than R = ${R}`);
  const sorted = (a: number[]) => a.sort((x, y) => x - y);
  return {
    train: sorted(order.slice(0, nTrain)),
    validation: sorted(order.slice(nTrain, nTrain + nVal)),
    test: sorted(order.slice(nTrain + nVal)),
    config: c,
  };
}

// ---------------------------------------------------------------------------------------------
// Subsets
// ---------------------------------------------------------------------------------------------

/**
 * A new panel with the units `idx` (in that order): values `[idx.length, steps, nodes]`, context
 * rows and `truth.graphOfUnit` follow; `truth.graphs` is kept whole so graph indices stay valid
 * across subsets; provenance records the step. Throws on an index out of range or repeated.
 */
export function subsetUnits(panel: Panel, idx: readonly number[]): Panel {
  const seen = new Set<number>();
  for (const u of idx) {
    if (!Number.isInteger(u) || u < 0 || u >= panel.units) throw new Error(`subsetUnits: unit index ${u} is out of range 0..${panel.units - 1}`);
    if (seen.has(u)) throw new Error(`subsetUnits: unit index ${u} appears twice`);
    seen.add(u);
  }
  if (idx.length === 0) throw new Error("subsetUnits: no units selected");
  const block = panel.steps * panel.nodes;
  const values = new Float32Array(idx.length * block);
  idx.forEach((u, k) => values.set(panel.values.subarray(u * block, (u + 1) * block), k * block));
  const out: Panel = {
    ...panel,
    values,
    units: idx.length,
    unitIds: idx.map((u) => panel.unitIds[u]),
    provenance: withStep(panel.provenance, "subsetUnits", { units: idx.map((u) => panel.unitIds[u]) }),
  };
  if (panel.context) {
    const k = panel.context.names.length;
    const cv = new Float32Array(idx.length * k);
    idx.forEach((u, r) => cv.set(panel.context!.values.subarray(u * k, (u + 1) * k), r * k));
    out.context = { values: cv, names: [...panel.context.names] };
  }
  if (panel.truth) out.truth = { graphs: panel.truth.graphs, graphOfUnit: idx.map((u) => panel.truth!.graphOfUnit[u]) };
  return out;
}

/** A new panel with the steps `[from, to)`: values `[units, to - from, nodes]`; provenance records the step. */
export function sliceSteps(panel: Panel, from: number, to: number): Panel {
  if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to > panel.steps || from >= to) {
    throw new Error(`sliceSteps: [${from}, ${to}) is not a non-empty step range within 0..${panel.steps}`);
  }
  const L = to - from;
  const N = panel.nodes;
  const values = new Float32Array(panel.units * L * N);
  for (let u = 0; u < panel.units; u++) {
    values.set(panel.values.subarray(at(panel, u, from, 0), at(panel, u, to, 0)), u * L * N);
  }
  const out: Panel = { ...panel, values, steps: L, provenance: withStep(panel.provenance, "sliceSteps", { from, to }) };
  if (panel.timeLabels) out.timeLabels = panel.timeLabels.slice(from, to);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Scaling
// ---------------------------------------------------------------------------------------------

/** How to fit a scaler. */
export interface ScalerConfig {
  /** Steps the statistics are computed on (the training window). Default: all steps. */
  steps?: { from: number; to: number };
  /** Units the statistics are computed on (training units). Default: all units. */
  units?: readonly number[];
  /**
   * Nodes transformed by `log1p` before standardising (raw spend, raw KPIs): "none", "channels",
   * "all", or a list of node names. Values must be > -1 there (>= 0 for raw spend).
   */
  log1p: "none" | "channels" | "all" | readonly string[];
  /** "node": one mean / SD per node, pooled over units and steps; "unit-node": per unit and node. */
  scope: "node" | "unit-node";
  /** An SD below this (a constant series) is replaced by 1, so the node is only centred. */
  minSd: number;
}

export const DEFAULT_SCALER: ScalerConfig = { log1p: "none", scope: "node", minSd: 1e-8 };

/**
 * A fitted scaler: `z = (g(x) - mean) / sd` with `g = log1p` on the flagged nodes, identity
 * elsewhere. `mean` and `sd` are `[groups, nodes]`: one group for scope "node", one per unit
 * (in `unitIds` order) for scope "unit-node". JSON-serialisable.
 */
export interface Scaler {
  scope: "node" | "unit-node";
  nodeNames: string[];
  log1p: boolean[];
  mean: number[][];
  sd: number[][];
  /** Units of each group for scope "unit-node" (the transform looks units up by id). */
  unitIds?: string[];
  fittedOn: { steps: { from: number; to: number }; units: string[] };
}

/**
 * Fits a per-node scaler on the training window / units of a panel (nothing else is looked at),
 * optionally after log1p for raw spend ({@link ScalerConfig}).
 */
export function fitScaler(panel: Panel, config: Partial<ScalerConfig> = {}): Scaler {
  const c = { ...DEFAULT_SCALER, ...config };
  const N = panel.nodes;
  const steps = c.steps ?? { from: 0, to: panel.steps };
  if (!(Number.isInteger(steps.from) && Number.isInteger(steps.to) && steps.from >= 0 && steps.to <= panel.steps && steps.from < steps.to)) {
    throw new Error(`fitScaler: steps [${steps.from}, ${steps.to}) is not a step range within 0..${panel.steps}`);
  }
  const units = c.units ? [...c.units] : Array.from({ length: panel.units }, (_, u) => u);
  if (units.length === 0 || units.some((u) => !Number.isInteger(u) || u < 0 || u >= panel.units)) {
    throw new Error(`fitScaler: units must be indices in 0..${panel.units - 1}`);
  }
  const log = logFlags(panel, c.log1p);
  const groups = c.scope === "node" ? [units] : units.map((u) => [u]);
  const mean: number[][] = [];
  const sd: number[][] = [];
  const file = panelLabel(panel);
  for (const g of groups) {
    const m = new Float64Array(N);
    const s2 = new Float64Array(N);
    let n = 0;
    for (const u of g) {
      for (let t = steps.from; t < steps.to; t++) {
        for (let i = 0; i < N; i++) {
          let x = panel.values[at(panel, u, t, i)];
          if (log[i]) {
            if (!(x > -1)) {
              throw new DataError({ file, column: panel.nodeNames[i] }, `log1p needs values > -1, got ${x} at unit "${panel.unitIds[u]}", step ${t}`);
            }
            x = Math.log1p(x);
          }
          m[i] += x;
        }
        n++;
      }
    }
    for (let i = 0; i < N; i++) m[i] /= n;
    for (const u of g) {
      for (let t = steps.from; t < steps.to; t++) {
        for (let i = 0; i < N; i++) {
          let x = panel.values[at(panel, u, t, i)];
          if (log[i]) x = Math.log1p(x);
          s2[i] += (x - m[i]) ** 2;
        }
      }
    }
    mean.push(Array.from(m));
    sd.push(
      Array.from(s2, (v) => {
        const s = Math.sqrt(v / n);
        return s < c.minSd ? 1 : s;
      }),
    );
  }
  return {
    scope: c.scope,
    nodeNames: [...panel.nodeNames],
    log1p: log,
    mean,
    sd,
    unitIds: c.scope === "unit-node" ? units.map((u) => panel.unitIds[u]) : undefined,
    fittedOn: { steps: { from: steps.from, to: steps.to }, units: units.map((u) => panel.unitIds[u]) },
  };
}

function logFlags(panel: Panel, spec: ScalerConfig["log1p"]): boolean[] {
  if (spec === "none") return panel.roles.map(() => false);
  if (spec === "all") return panel.roles.map(() => true);
  if (spec === "channels") return panel.roles.map((r) => r === "channel");
  const names = new Set(spec);
  for (const n of names) nodeIndex(panel, n);
  return panel.nodeNames.map((n) => names.has(n));
}

/** Group index (row of scaler.mean) for each unit of the panel. */
function scalerGroups(panel: Panel, scaler: Scaler): number[] {
  if (scaler.nodeNames.length !== panel.nodes || scaler.nodeNames.some((n, i) => n !== panel.nodeNames[i])) {
    throw new Error(`scaler: fitted on nodes [${scaler.nodeNames.join(", ")}], panel has [${panel.nodeNames.join(", ")}]`);
  }
  if (scaler.scope === "node") return panel.unitIds.map(() => 0);
  const pos = new Map(scaler.unitIds!.map((id, k) => [id, k]));
  return panel.unitIds.map((id) => {
    const k = pos.get(id);
    if (k === undefined) throw new Error(`scaler: scope "unit-node" was not fitted on unit "${id}"`);
    return k;
  });
}

/** The standardised panel (a copy); provenance records the scaler. */
export function applyScaler(panel: Panel, scaler: Scaler): Panel {
  const grp = scalerGroups(panel, scaler);
  const out = new Float32Array(panel.values.length);
  const N = panel.nodes;
  for (let u = 0; u < panel.units; u++) {
    const m = scaler.mean[grp[u]];
    const s = scaler.sd[grp[u]];
    for (let t = 0; t < panel.steps; t++) {
      for (let i = 0; i < N; i++) {
        const k = at(panel, u, t, i);
        let x = panel.values[k];
        if (scaler.log1p[i]) {
          if (!(x > -1)) {
            throw new DataError(
              { file: panelLabel(panel), column: panel.nodeNames[i] },
              `log1p needs values > -1, got ${x} at unit "${panel.unitIds[u]}", step ${t}`,
            );
          }
          x = Math.log1p(x);
        }
        out[k] = (x - m[i]) / s[i];
      }
    }
  }
  return { ...panel, values: out, provenance: withStep(panel.provenance, "applyScaler", { scaler }) };
}

/** The inverse of `applyScaler` (a copy): back to the raw scale. */
export function invertScaler(panel: Panel, scaler: Scaler): Panel {
  const grp = scalerGroups(panel, scaler);
  const out = new Float32Array(panel.values.length);
  for (let u = 0; u < panel.units; u++) {
    for (let t = 0; t < panel.steps; t++) {
      for (let i = 0; i < panel.nodes; i++) {
        const k = at(panel, u, t, i);
        out[k] = unscaleValue(scaler, i, panel.values[k], grp[u]);
      }
    }
  }
  return { ...panel, values: out, provenance: withStep(panel.provenance, "invertScaler", {}) };
}

/** Scales one raw value of node `node` (group = unit's row for scope "unit-node", else 0). */
export function scaleValue(scaler: Scaler, node: number, x: number, group = 0): number {
  const v = scaler.log1p[node] ? Math.log1p(x) : x;
  return (v - scaler.mean[group][node]) / scaler.sd[group][node];
}

/** Back-transforms one scaled value of node `node` (e.g. a forecast) to the raw scale. */
export function unscaleValue(scaler: Scaler, node: number, z: number, group = 0): number {
  const v = z * scaler.sd[group][node] + scaler.mean[group][node];
  return scaler.log1p[node] ? Math.expm1(v) : v;
}

// ---------------------------------------------------------------------------------------------
// Degeneracy
// ---------------------------------------------------------------------------------------------

/** Groups of identical units: the degeneracy measures (how many different units a panel holds). */
export interface DistinctGroups {
  /** Number of distinct groups. */
  count: number;
  /** Group index of each unit (groups numbered by first appearance). */
  groupOfUnit: number[];
  /** Size of each group. */
  sizes: number[];
}

function groupBy(keys: string[]): DistinctGroups {
  const ids = new Map<string, number>();
  const sizes: number[] = [];
  const groupOfUnit = keys.map((k) => {
    let g = ids.get(k);
    if (g === undefined) {
      g = ids.size;
      ids.set(k, g);
      sizes.push(0);
    }
    sizes[g]++;
    return g;
  });
  return { count: ids.size, groupOfUnit, sizes };
}

/** Units whose whole series (all nodes, all steps) are bit-identical form one group. */
export function distinctSeries(panel: Panel): DistinctGroups {
  const block = panel.steps * panel.nodes;
  const bytes = new Uint8Array(panel.values.buffer, panel.values.byteOffset, panel.values.byteLength);
  const keys = Array.from({ length: panel.units }, (_, u) => Buffer.from(bytes.subarray(u * block * 4, (u + 1) * block * 4)).toString("base64"));
  return groupBy(keys);
}

/** Units whose series of one node (all steps) are bit-identical form one group. */
export function distinctNodeSeries(panel: Panel, node: number): DistinctGroups {
  if (!Number.isInteger(node) || node < 0 || node >= panel.nodes) throw new Error(`distinctNodeSeries: node ${node} is not in 0..${panel.nodes - 1}`);
  const keys = Array.from({ length: panel.units }, (_, u) => {
    const s = new Float32Array(panel.steps);
    for (let t = 0; t < panel.steps; t++) s[t] = panel.values[(u * panel.steps + t) * panel.nodes + node];
    return Buffer.from(s.buffer).toString("base64");
  });
  return groupBy(keys);
}

/** Units whose true graphs are equal form one group (throws when the panel has no truth). */
export function distinctGraphs(panel: Panel): DistinctGroups {
  if (!panel.truth) throw new Error("distinctGraphs: the panel has no true graphs");
  const { graphs, graphOfUnit } = panel.truth;
  return groupBy(graphOfUnit.map((g) => JSON.stringify(graphs[g])));
}

/** The units of group `group` of a {@link DistinctGroups} (indices, increasing). */
export function unitsOfGroup(groups: Pick<DistinctGroups, "groupOfUnit">, group: number): number[] {
  return groups.groupOfUnit.flatMap((k, u) => (k === group ? [u] : []));
}

/**
 * One line on how many different units a panel holds: its units, its distinct series (units
 * per series, "1 each" when every unit is distinct) and its distinct true graphs (units per
 * graph). Throws when the panel has no true graphs.
 */
export function describeDegeneracy(label: string, panel: Panel): string {
  const s = distinctSeries(panel);
  const g = distinctGraphs(panel);
  const perSeries = s.count === panel.units ? "1 each" : s.sizes.join(", ");
  const series = `${s.count} distinct series (units per series: ${perSeries})`;
  return `${label}: ${panel.units} units, ${series}, ${g.count} distinct graphs (units per graph: ${g.sizes.join(", ")})`;
}

// ---------------------------------------------------------------------------------------------
// Describing a panel (what the notebooks print and plot)
// ---------------------------------------------------------------------------------------------

/** A panel's size in the study's notation: `R = units, d = nodes, T = steps`. */
export function describeSize(panel: Pick<Panel, "units" | "nodes" | "steps">): string {
  return `R = ${panel.units}, d = ${panel.nodes}, T = ${panel.steps}`;
}

function checkUnit(panel: Pick<Panel, "units">, u: number, what: string): void {
  if (!(Number.isInteger(u) && u >= 0 && u < panel.units)) throw new Error(`${what}: unit ${u} is not in 0..${panel.units - 1}`);
}

/** The series of node `i` of unit `u` over all steps, as numbers (float32 values widened). */
export function nodeSeries(panel: Pick<Panel, "values" | "units" | "steps" | "nodes">, u: number, i: number): number[] {
  checkUnit(panel, u, "nodeSeries");
  if (!(Number.isInteger(i) && i >= 0 && i < panel.nodes)) throw new Error(`nodeSeries: node ${i} is not in 0..${panel.nodes - 1}`);
  return Array.from({ length: panel.steps }, (_, t) => panel.values[at(panel, u, t, i)]);
}

/** The context values of unit `u` (a view into `panel.context.values`); throws when the panel has no context. */
export function contextOfUnit(panel: Pick<Panel, "context" | "units">, u: number): Float32Array {
  if (!panel.context) throw new Error("contextOfUnit: the panel has no context");
  checkUnit(panel, u, "contextOfUnit");
  const k = panel.context.names.length;
  return panel.context.values.subarray(u * k, (u + 1) * k);
}

/** Unit `u`'s context values joined by commas: equal keys, equal contexts (bit for bit, as float32). */
export function contextKey(panel: Pick<Panel, "context" | "units">, u: number): string {
  return Array.from(contextOfUnit(panel, u)).join(",");
}

/** How many units have true graph `g` (`truth.graphOfUnit`); throws when the panel has no true graphs. */
export function graphUnitCount(panel: Pick<Panel, "truth">, g: number): number {
  if (!panel.truth) throw new Error("graphUnitCount: the panel has no true graphs");
  return panel.truth.graphOfUnit.filter((k) => k === g).length;
}

/**
 * Lag-1 autocorrelation of a series: `sum_t (y_t - m)(y_{t-1} - m) / sum_t (y_t - m)^2` with m
 * the series mean (the usual sample autocorrelation); NaN for a constant series.
 */
export function lag1Autocorrelation(y: readonly number[]): number {
  const m = y.reduce((a, b) => a + b, 0) / y.length;
  let num = 0;
  let den = 0;
  for (let t = 0; t < y.length; t++) {
    den += (y[t] - m) ** 2;
    if (t > 0) num += (y[t] - m) * (y[t - 1] - m);
  }
  return num / den;
}
