/**
 * Support selection: turning DICE Stage 1's edge probabilities into a discrete graph
 * (STUDY.md, "Support selection"). Three methods, each returning the 0/1 graphs (one per unit)
 * and the evidence it rested on ({@link SupportSelection}): {@link selectByValidation} (a
 * threshold chosen by validation MSE), {@link selectByStability} (stability selection) and
 * {@link selectTopK} (the k most probable edges per unit).
 */
import { type Graph, emptyGraph } from "../graph";

export interface ThresholdCandidate {
  threshold: number;
  /** Mean number of selected edges per unit. */
  edges: number;
  /** The score of that support (validation MSE: lower is better). */
  score: number;
}

/** A selected support and its evidence. Graphs are `G[j][i]` (j -> i); diagonals are never selected. */
export interface SupportSelection<E = unknown> {
  method: "validation" | "stability" | "top-k" | string;
  /** One 0/1 graph per unit, in the order of the input. */
  graphs: Graph[];
  evidence: E;
}

export interface ValidationEvidence {
  candidates: ThresholdCandidate[];
  chosen: ThresholdCandidate;
  /** Candidates within this relative distance of the best score count as ties; the sparsest wins. */
  tolerance: number;
}

export interface StabilityEvidence {
  /** Per unit, the share of runs in which each edge had P >= edgeCut. */
  frequency: Graph[];
  runs: number;
  edgeCut: number;
  frequencyCut: number;
}

export interface TopKEvidence {
  k: number;
  /** Per unit, the smallest selected probability. */
  cutoff: number[];
}

function checkProbs(probs: readonly Graph[], what: string): number {
  if (probs.length === 0) throw new Error(`${what}: no graphs`);
  const N = probs[0].length;
  probs.forEach((g, u) => {
    if (g.length !== N || g.some((row) => row.length !== N)) throw new Error(`${what}: graph ${u} is not ${N} x ${N}`);
    g.forEach((row, j) =>
      row.forEach((v, i) => {
        if (!Number.isFinite(v)) throw new Error(`${what}: graph ${u} has a non-finite value at [${j}][${i}]`);
      }),
    );
  });
  return N;
}

/** The 0/1 graph of entries >= threshold (diagonal 0). */
export function thresholdGraph(g: Graph, threshold: number): Graph {
  return g.map((row, j) => row.map((v, i) => (i !== j && v >= threshold ? 1 : 0)));
}

const countEdges = (gs: readonly Graph[]) => gs.reduce((s, g) => s + g.reduce((t, row) => t + row.reduce((a, v) => a + v, 0), 0), 0) / gs.length;

export const DEFAULT_THRESHOLDS: readonly number[] = Array.from({ length: 19 }, (_, k) => Math.round((k + 1) * 5) / 100);

/**
 * A threshold on P(edge) chosen by a validation score of each candidate support (the caller
 * supplies that score: the restricted decoder run with each candidate). `score` receives one 0/1
 * graph per unit and returns the validation MSE of the restricted decoder with it (lower is
 * better). Among candidates within `tolerance` (relative) of the best score, the highest
 * threshold (the sparsest support) is chosen.
 */
export function selectByValidation(
  probs: readonly Graph[],
  score: (graphs: Graph[]) => number,
  config: { thresholds?: readonly number[]; tolerance?: number } = {},
): SupportSelection<ValidationEvidence> {
  checkProbs(probs, "selectByValidation");
  const thresholds = [...(config.thresholds ?? DEFAULT_THRESHOLDS)].sort((a, b) => a - b);
  const tolerance = config.tolerance ?? 0.001;
  if (thresholds.length === 0 || thresholds.some((t) => !(t > 0 && t <= 1))) throw new Error("selectByValidation: thresholds must be in (0, 1]");
  const candidates = thresholds.map((threshold) => {
    const graphs = probs.map((g) => thresholdGraph(g, threshold));
    const s = score(graphs);
    if (!Number.isFinite(s)) throw new Error(`selectByValidation: the score of threshold ${threshold} is ${s}`);
    return { threshold, edges: countEdges(graphs), score: s };
  });
  const best = Math.min(...candidates.map((c) => c.score));
  const chosen = [...candidates].reverse().find((c) => c.score <= best + Math.abs(best) * tolerance + 1e-12)!;
  return { method: "validation", graphs: probs.map((g) => thresholdGraph(g, chosen.threshold)), evidence: { candidates, chosen, tolerance } };
}

/**
 * Stability selection over runs (seeds or bootstraps): `runs[r][u]` is run r's P(j -> i) for
 * unit u. An edge is kept for unit u when P >= `edgeCut` in at least `frequencyCut` of the runs.
 */
export function selectByStability(
  runs: readonly (readonly Graph[])[],
  config: { edgeCut?: number; frequencyCut?: number } = {},
): SupportSelection<StabilityEvidence> {
  const edgeCut = config.edgeCut ?? 0.5;
  const frequencyCut = config.frequencyCut ?? 0.6;
  if (runs.length === 0) throw new Error("selectByStability: no runs");
  if (!(frequencyCut > 0 && frequencyCut <= 1)) throw new Error(`selectByStability: frequencyCut must be in (0, 1], got ${frequencyCut}`);
  const units = runs[0].length;
  const N = checkProbs(runs[0], "selectByStability (run 0)");
  runs.forEach((r, k) => {
    if (r.length !== units) throw new Error(`selectByStability: run ${k} has ${r.length} units, run 0 has ${units}`);
    if (checkProbs(r, `selectByStability (run ${k})`) !== N) throw new Error(`selectByStability: run ${k} has graphs of another size`);
  });
  const frequency = Array.from({ length: units }, (_, u) => {
    const f = emptyGraph(N);
    for (const r of runs)
      r[u].forEach((row, j) =>
        row.forEach((v, i) => {
          if (i !== j && v >= edgeCut) f[j][i] += 1 / runs.length;
        }),
      );
    return f;
  });
  // a frequency within rounding of the cut counts as reaching it
  const graphs = frequency.map((f) => thresholdGraph(f, frequencyCut - 1e-9));
  return { method: "stability", graphs, evidence: { frequency, runs: runs.length, edgeCut, frequencyCut } };
}

/**
 * The k most probable edges per unit (ties broken by the lower flat index j * N + i), with
 * k = `k` or round(density x N(N-1)) (the expected density x N(N-1)).
 */
export function selectTopK(probs: readonly Graph[], config: { k?: number; density?: number }): SupportSelection<TopKEvidence> {
  const N = checkProbs(probs, "selectTopK");
  const pairs = N * (N - 1);
  const k = config.k ?? (config.density !== undefined ? Math.round(config.density * pairs) : undefined);
  if (k === undefined) throw new Error("selectTopK: give k or density");
  if (!(Number.isInteger(k) && k >= 0 && k <= pairs)) throw new Error(`selectTopK: k must be an integer in 0..${pairs}, got ${k}`);
  const cutoff: number[] = [];
  const graphs = probs.map((g) => {
    const entries: { j: number; i: number; v: number }[] = [];
    g.forEach((row, j) =>
      row.forEach((v, i) => {
        if (i !== j) entries.push({ j, i, v });
      }),
    );
    entries.sort((a, b) => b.v - a.v || a.j * N + a.i - (b.j * N + b.i));
    const out = emptyGraph(N);
    entries.slice(0, k).forEach((e) => (out[e.j][e.i] = 1));
    cutoff.push(k > 0 ? entries[k - 1].v : Infinity);
    return out;
  });
  return { method: "top-k", graphs, evidence: { k, cutoff } };
}
