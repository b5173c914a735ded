/**
 * Frozen-decoder graph swap (STUDY.md, "Measures"): a forecaster that consumes a graph is trained
 * once and frozen; MSE@M and direct AR-CIG nAUPRC (against the oracle graph) are evaluated with
 * supplied graphs: learned, oracle, empty, full, and K degree-preserving random rewirings of the
 * oracle (the null distribution). Oracle high and learned low localises the bottleneck in
 * graph-support selection rather than in forecasting or decoder capacity. {@link graphSwap} runs
 * it; the rewiring and what its null keeps: {@link rewireDegreePreserving}.
 */
import * as aq from "arquero";
import type { Graph } from "../graph";
import { emptyGraph, fullGraph, isAcyclic } from "../graph";
import { Rng } from "../rng";
import type { Forecaster } from "../core/forecaster";
import type { InfluenceConfig, InfluenceMatrix, InfluenceScore, InfluenceScoreConfig } from "./influence";
import { DEFAULT_INFLUENCE, DEFAULT_INFLUENCE_SCORE, arCig, scoreInfluence } from "./influence";
import type { MseConfig, MseResult } from "./mse";
import { DEFAULT_MSE, mseAtHorizons } from "./mse";
import type { SeriesData } from "./windows";

// ---------------------------------------------------------------------------------------------
// Degree-preserving rewiring
// ---------------------------------------------------------------------------------------------

/** How to rewire a graph. */
export interface RewireConfig {
  /** Successful swaps to attempt per edge (mixing). */
  swapsPerEdge: number;
  /** Reject swaps that create a directed cycle. */
  keepDag: boolean;
  /** Give up after this many attempts per edge (sparse or rigid graphs admit few swaps). */
  maxAttemptsPerEdge: number;
}

export const DEFAULT_REWIRE: RewireConfig = { swapsPerEdge: 10, keepDag: false, maxAttemptsPerEdge: 100 };

/** A rewired graph and how it was obtained. */
export interface Rewiring {
  graph: Graph;
  /** Swaps performed. */
  swaps: number;
  /** Attempts made (accepted or not). */
  attempts: number;
  /** Edges of the original graph still present. */
  edgesKept: number;
  /** Number of edges (the same before and after). */
  edges: number;
}

/**
 * A degree-preserving random rewiring of a 0/1 graph (off-diagonal; the diagonal is ignored and
 * left 0): every node keeps its in- and out-degree, no self-loops, optionally acyclic.
 *
 * Rewiring: repeated directed double-edge swaps `a -> b, c -> d` => `a -> d, c -> b` (accepted
 * only when neither new edge exists already and none is a self-loop; optionally only when the
 * graph stays acyclic). Each swap keeps every node's in- and out-degree. The rewired graph is
 * drawn from a seeded {@link Rng}, so the null distribution is reproducible.
 *
 * What the null measures: a degree-preserving rewiring keeps the *role structure* of the graph.
 * In an MMM graph the channels are roots (in-degree 0) and the target a sink (out-degree 0), so
 * every rewired edge still runs from a sender to a receiver, and a large share of the oracle's
 * edges survives any number of swaps. Its nAUPRC against the oracle is then clearly above 0
 * (test/diagnostics/swap.test.ts checks it on a small MMM graph), while for a graph with
 * homogeneous degrees it is near 0. So compare the oracle and the learned graph with the null
 * distribution (`null.mean`, `null.pOracle`), not with 0; the `nullModel: "density"` option
 * gives the plainer null ({@link rewireDensityPreserving}: same edge count, placed uniformly
 * over the off-diagonal pairs), which is centred near 0.
 */
export function rewireDegreePreserving(g: Graph, rng: Rng, config: Partial<RewireConfig> = {}): Rewiring {
  const c = { ...DEFAULT_REWIRE, ...config };
  const n = g.length;
  const adj = g.map((row, j) => row.map((v, i) => (i !== j && v !== 0 ? 1 : 0)));
  g.forEach((row, j) =>
    row.forEach((v, i) => {
      if (i !== j && v !== 0 && v !== 1) throw new Error(`rewireDegreePreserving: entry [${j}][${i}] is ${v}; the graph must be 0/1`);
    }),
  );
  const edges: [number, number][] = [];
  for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) if (adj[j][i]) edges.push([j, i]);
  const E = edges.length;
  if (c.keepDag && !isAcyclic(adj)) throw new Error("rewireDegreePreserving: keepDag asks for a DAG, but the graph has a cycle");
  let swaps = 0;
  let attempts = 0;
  const target = c.swapsPerEdge * E;
  const maxAttempts = c.maxAttemptsPerEdge * E;
  while (E >= 2 && swaps < target && attempts < maxAttempts) {
    attempts++;
    const p = rng.int(E);
    let q = rng.int(E - 1);
    if (q >= p) q++;
    const [a, b] = edges[p];
    const [cc, d] = edges[q];
    if (a === d || cc === b || a === cc || b === d) continue; // self-loop, or no change
    if (adj[a][d] || adj[cc][b]) continue; // would duplicate an edge
    adj[a][b] = 0;
    adj[cc][d] = 0;
    adj[a][d] = 1;
    adj[cc][b] = 1;
    if (c.keepDag && !isAcyclic(adj)) {
      adj[a][d] = 0;
      adj[cc][b] = 0;
      adj[a][b] = 1;
      adj[cc][d] = 1;
      continue;
    }
    edges[p] = [a, d];
    edges[q] = [cc, b];
    swaps++;
  }
  let edgesKept = 0;
  for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) if (i !== j && adj[j][i] && g[j][i]) edgesKept++;
  return { graph: adj, swaps, attempts, edgesKept, edges: E };
}

/**
 * A random graph with the same number of edges as `g`, placed uniformly over the off-diagonal
 * pairs (acyclic when `keepDag`: edges then follow a random node order). Degrees are not kept.
 */
export function rewireDensityPreserving(g: Graph, rng: Rng, config: Partial<Pick<RewireConfig, "keepDag">> = {}): Rewiring {
  const n = g.length;
  let E = 0;
  g.forEach((row, j) =>
    row.forEach((v, i) => {
      if (i === j) return;
      if (v !== 0 && v !== 1) throw new Error(`rewireDensityPreserving: entry [${j}][${i}] is ${v}; the graph must be 0/1`);
      E += v;
    }),
  );
  const order = rng.shuffle(Array.from({ length: n }, (_, k) => k));
  const rank = new Array<number>(n);
  order.forEach((node, k) => (rank[node] = k));
  const pairs: [number, number][] = [];
  for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) if (i !== j && (!config.keepDag || rank[j] < rank[i])) pairs.push([j, i]);
  if (E > pairs.length) throw new Error(`rewireDensityPreserving: ${E} edges do not fit in ${pairs.length} allowed pairs`);
  rng.shuffle(pairs);
  const adj = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (const [j, i] of pairs.slice(0, E)) adj[j][i] = 1;
  let edgesKept = 0;
  for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) if (i !== j && adj[j][i] && g[j][i]) edgesKept++;
  return { graph: adj, swaps: 0, attempts: 0, edgesKept, edges: E };
}

// ---------------------------------------------------------------------------------------------
// Graph swap
// ---------------------------------------------------------------------------------------------

/** Graph swap configuration. */
export interface GraphSwapConfig {
  /** The true graph: shared, or one per unit of the data (indexed by unit index). */
  oracle?: Graph | readonly Graph[];
  /** The graph the model learned (shared or per unit); omitted when absent. */
  learned?: Graph | readonly Graph[];
  /** More named graphs to evaluate (e.g. other support-selection rules). */
  extra?: Record<string, Graph | readonly Graph[]>;
  /** Number K of degree-preserving rewirings of the oracle (the null distribution). */
  rewirings: number;
  /** Seed of the rewirings. */
  seed: number;
  /** Rewiring settings (keepDag is off by default). */
  rewire: Partial<RewireConfig>;
  /** "degree": degree-preserving rewirings (STUDY.md); "density": same edge count, uniform placement. */
  nullModel: "degree" | "density";
  /** MSE@M settings (windows, horizons, target); the `graph` field is set per condition. */
  mse: Partial<MseConfig>;
  /** AR-CIG settings (windows, horizon, delta); only direct AR-CIG is computed. */
  influence: Partial<InfluenceConfig>;
  /** Tie handling when scoring. */
  score: Partial<InfluenceScoreConfig>;
}

export const DEFAULT_GRAPH_SWAP: GraphSwapConfig = {
  rewirings: 20,
  seed: 0,
  rewire: DEFAULT_REWIRE,
  nullModel: "degree",
  mse: DEFAULT_MSE,
  influence: DEFAULT_INFLUENCE,
  score: DEFAULT_INFLUENCE_SCORE,
};

export type SwapKind = "learned" | "oracle" | "empty" | "full" | "rewired" | "extra";

/** One supplied graph and what the frozen forecaster does with it. */
export interface SwapCondition {
  name: string;
  kind: SwapKind;
  /** The supplied graph (shared or per unit). */
  graph: Graph | readonly Graph[];
  mse: MseResult;
  /** Direct AR-CIG with this graph supplied. */
  arCig: InfluenceMatrix;
  /** Direct AR-CIG scored against the oracle graph. */
  score: InfluenceScore;
  /** Headline direct AR-CIG nAUPRC against the oracle. */
  nauprc: number;
}

/** The null distribution from the rewirings of the oracle. */
export interface SwapNull {
  /** nAUPRC of each rewiring. */
  nauprc: number[];
  mean: number;
  /** Sample SD (n - 1). */
  sd: number;
  /** Share of rewirings with nAUPRC >= the oracle's (one-sided empirical p, with the +1 correction: (count + 1) / (K + 1)). */
  pOracle: number;
  /** Edge overlap of each rewiring with the oracle (kept / edges, mean over distinct graphs). */
  overlap: number[];
}

export interface GraphSwapResult {
  conditions: SwapCondition[];
  null: SwapNull;
  /** The configuration used (graphs left out). */
  config: Omit<GraphSwapConfig, "oracle" | "learned" | "extra">;
}

function isGraphList(g: Graph | readonly Graph[]): g is readonly Graph[] {
  return g.length > 0 && Array.isArray((g as Graph[])[0]?.[0]);
}

/** Rewires every distinct graph of a shared or per-unit oracle once, with the same rng. */
function rewireOracle(
  oracle: Graph | readonly Graph[],
  rng: Rng,
  config: Partial<RewireConfig>,
  nullModel: "degree" | "density",
): { graph: Graph | Graph[]; overlap: number } {
  const rewire = (g: Graph) => (nullModel === "degree" ? rewireDegreePreserving(g, rng, config) : rewireDensityPreserving(g, rng, config));
  if (!isGraphList(oracle)) {
    const r = rewire(oracle);
    return { graph: r.graph, overlap: r.edges ? r.edgesKept / r.edges : NaN };
  }
  const byKey = new Map<string, Rewiring>();
  const out = oracle.map((g) => {
    const key = JSON.stringify(g);
    let r = byKey.get(key);
    if (!r) {
      r = rewire(g);
      byKey.set(key, r);
    }
    return r.graph;
  });
  const rs = [...byKey.values()].filter((r) => r.edges > 0);
  return { graph: out, overlap: rs.length ? rs.reduce((s, r) => s + r.edgesKept / r.edges, 0) / rs.length : NaN };
}

/**
 * Evaluates a frozen graph-consuming forecaster under supplied graphs: learned, oracle, empty,
 * full, K rewirings of the oracle (the null distribution, see {@link rewireDegreePreserving}) and
 * any `extra` graphs.
 * data: values [units, steps, nodes], already scaled; the oracle defaults to the panel's truth
 * when `data` is a panel with one.
 */
export function graphSwap(
  forecaster: Forecaster,
  data: SeriesData & { truth?: { graphs: Graph[]; graphOfUnit: number[] } },
  config: Partial<GraphSwapConfig> = {},
): GraphSwapResult {
  const c: GraphSwapConfig = { ...DEFAULT_GRAPH_SWAP, ...config };
  if (!forecaster.acceptsGraph) throw new Error("graphSwap: the forecaster does not accept a graph (acceptsGraph = false), so swapping graphs changes nothing");
  const oracle = c.oracle ?? (data.truth ? data.truth.graphOfUnit.map((k) => data.truth!.graphs[k]) : undefined);
  if (!oracle) throw new Error("graphSwap: give config.oracle, or data with true graphs");
  if (c.nullModel !== "degree" && c.nullModel !== "density") throw new Error(`graphSwap: nullModel must be "degree" or "density", got ${c.nullModel}`);
  if (!(Number.isInteger(c.rewirings) && c.rewirings >= 0)) throw new Error(`graphSwap: rewirings must be a non-negative integer, got ${c.rewirings}`);
  const N = forecaster.nodes;
  const graphs: { name: string; kind: SwapKind; graph: Graph | readonly Graph[]; overlap?: number }[] = [];
  if (c.learned) graphs.push({ name: "learned", kind: "learned", graph: c.learned });
  graphs.push({ name: "oracle", kind: "oracle", graph: oracle });
  graphs.push({ name: "empty", kind: "empty", graph: emptyGraph(N) });
  graphs.push({ name: "full", kind: "full", graph: fullGraph(N) });
  for (const [name, g] of Object.entries(c.extra ?? {})) graphs.push({ name, kind: "extra", graph: g });
  const rng = new Rng(c.seed);
  for (let k = 0; k < c.rewirings; k++) {
    const r = rewireOracle(oracle, rng, c.rewire, c.nullModel);
    graphs.push({ name: `rewired-${k}`, kind: "rewired", graph: r.graph, overlap: r.overlap });
  }
  const conditions = graphs.map((g): SwapCondition => {
    const mse = mseAtHorizons(forecaster, data, { ...c.mse, graph: g.graph });
    const direct = arCig(forecaster, data, { ...c.influence, graph: g.graph, modes: ["direct"] }).direct!;
    const score = scoreInfluence(direct, oracle, c.score);
    return { name: g.name, kind: g.kind, graph: g.graph, mse, arCig: direct, score, nauprc: score.headline.nauprc };
  });
  const oracleScore = conditions.find((x) => x.kind === "oracle")!.nauprc;
  const nullValues = conditions.filter((x) => x.kind === "rewired").map((x) => x.nauprc);
  const finite = nullValues.filter(Number.isFinite);
  const mean = finite.length ? finite.reduce((s, v) => s + v, 0) / finite.length : NaN;
  const sd = finite.length > 1 ? Math.sqrt(finite.reduce((s, v) => s + (v - mean) ** 2, 0) / (finite.length - 1)) : NaN;
  const pOracle = (finite.filter((v) => v >= oracleScore).length + 1) / (finite.length + 1);
  const { oracle: _o, learned: _l, extra: _e, ...rest } = c;
  return {
    conditions,
    null: { nauprc: nullValues, mean, sd, pOracle, overlap: graphs.filter((g) => g.kind === "rewired").map((g) => g.overlap ?? NaN) },
    config: rest,
  };
}

/**
 * An arquero table of a graph swap for notebooks: one row per non-rewired condition plus one row
 * "rewired (null)" with the null mean, columns `graph`, `kind`, `mse_at_<M>` (target) for each
 * horizon, `nauprc` and `nauprc_sd` (SD of the null; empty for single graphs).
 */
export function swapTable(result: GraphSwapResult): aq.ColumnTable {
  const fixed = result.conditions.filter((x) => x.kind !== "rewired");
  const rewired = result.conditions.filter((x) => x.kind === "rewired");
  const horizons = result.conditions[0]?.mse.horizons.map((h) => h.horizon) ?? [];
  const rows: Record<string, string | number>[] = fixed.map((x) => {
    const row: Record<string, string | number> = { graph: x.name, kind: x.kind };
    x.mse.horizons.forEach((h) => (row[`mse_at_${h.horizon}`] = h.target));
    row.nauprc = x.nauprc;
    row.nauprc_sd = NaN;
    return row;
  });
  if (rewired.length) {
    const row: Record<string, string | number> = { graph: `rewired (null, K = ${rewired.length})`, kind: "rewired" };
    horizons.forEach((M, k) => {
      const v = rewired.map((x) => x.mse.horizons[k].target).filter(Number.isFinite);
      row[`mse_at_${M}`] = v.length ? v.reduce((s, a) => s + a, 0) / v.length : NaN;
    });
    row.nauprc = result.null.mean;
    row.nauprc_sd = result.null.sd;
    rows.push(row);
  }
  return aq.from(rows);
}
