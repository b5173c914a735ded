/**
 * Loader of the simulation data shipped with the official CausalMMM code
 * (`data/causalmmm-sim/`, placed there by `npm run data`; see its README), so that the study can
 * run CausalMMM on the data it was published with. {@link loadCausalMMMSim} gives the files, the
 * roles and what the data are like.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Graph } from "../graph";
import { emptyGraph } from "../graph";
import { DataError } from "./errors";
import { readNpy, type NpyArray } from "./npy";
import { type NodeRole, type Panel, validatePanel } from "./panel";
import { dataPath } from "./paths";

/** Options of `loadCausalMMMSim`. */
export interface CausalMMMSimOptions {
  /**
   * Folder holding the three .npy files. Default: `causalmmm-sim` under the data folder
   * (`GRAPH_MMM_DATA_DIR`, else `<repo root>/data`), where `npm run data` places them.
   */
  dir?: string;
}

/** Node names of the shipped data: 5 channels, 2 intermediates, the target. */
export const CAUSALMMM_NODE_NAMES: readonly string[] = ["ch0", "ch1", "ch2", "ch3", "ch4", "mid5", "mid6", "gmv"];
export const CAUSALMMM_ROLES: readonly NodeRole[] = ["channel", "channel", "channel", "channel", "channel", "intermediate", "intermediate", "target"];

/** The folder `loadCausalMMMSim` reads by default (or `dir`, resolved). */
export function causalMMMSimDir(dir?: string): string {
  return dataPath("causalmmm-sim", dir);
}

/** Position of the pair j -> i (j != i) in a row of the edge file: `i*(N-1) + (j < i ? j : j-1)`. */
export function edgeIndex(j: number, i: number, n: number): number {
  if (i === j) throw new Error(`edgeIndex: no entry for the diagonal pair (${j}, ${i})`);
  return i * (n - 1) + (j < i ? j : j - 1);
}

/** Decodes one row of N(N-1) edge entries to a graph (`G[j][i] = 1`: j -> i). */
export function decodeEdgeRow(row: ArrayLike<number>, n: number): Graph {
  const g = emptyGraph(n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) g[j][i] = row[edgeIndex(j, i, n)];
  return g;
}

/**
 * Loads the CausalMMM shipped simulation as a multi-graph panel with context.
 *
 * Files (NumPy, float64, C order):
 * - `shuffled_data.npy`    `[300, 8, 100]` = units x nodes x steps -> our values `[units, steps, nodes]`;
 * - `shuffled_context.npy` `[300, 2]`      = context per unit;
 * - `shuffled_edges.npy`   `[300, 56]`     = per unit the off-diagonal ordered pairs: entry
 *   `k = i*7 + (j if j < i else j - 1)` is 1 when j -> i (for N nodes: `i*(N-1) + ...`, {@link edgeIndex}).
 *
 * Roles: nodes 0-4 channels, 5-6 intermediates, 7 target (GMV). The per-unit graphs are
 * deduplicated into `truth.graphs` (order of first appearance) with `truth.graphOfUnit`.
 * The data are already standardised (channels take negative values), so the loader does not
 * ask for non-negative spend. The data are highly degenerate (few distinct series among many
 * units, contexts that do not change the series): notebook 01 measures how, with
 * `distinctSeries`, `distinctNodeSeries` and `distinctGraphs` (lib/data/panel.ts).
 */
export function loadCausalMMMSim(options: CausalMMMSimOptions = {}): Panel {
  const dir = causalMMMSimDir(options.dir);
  const path = (f: string) => join(dir, f);
  for (const f of ["shuffled_data.npy", "shuffled_context.npy", "shuffled_edges.npy"]) {
    if (!existsSync(path(f))) throw new DataError({ file: path(f) }, `missing (run \`npm run data\` to fetch the CausalMMM files, or pass dir)`);
  }
  const data = readNpy(path("shuffled_data.npy"));
  const ctx = readNpy(path("shuffled_context.npy"));
  const edges = readNpy(path("shuffled_edges.npy"));
  const dims = (a: NpyArray, n: number, what: string) => {
    if (a.shape.length !== n) throw new DataError({ file: a.file, column: "shape" }, `expected a ${n}-d array (${what}), got shape (${a.shape.join(", ")})`);
  };
  dims(data, 3, "units x nodes x steps");
  dims(ctx, 2, "units x context");
  dims(edges, 2, "units x N(N-1)");
  const [R, N, T] = data.shape;
  if (N !== CAUSALMMM_NODE_NAMES.length) {
    throw new DataError({ file: data.file, column: "shape" }, `expected ${CAUSALMMM_NODE_NAMES.length} nodes on axis 1, got ${N}`);
  }
  if (ctx.shape[0] !== R) throw new DataError({ file: ctx.file, column: "shape" }, `${ctx.shape[0]} units, but ${data.file} has ${R}`);
  if (edges.shape[0] !== R) throw new DataError({ file: edges.file, column: "shape" }, `${edges.shape[0]} units, but ${data.file} has ${R}`);
  if (edges.shape[1] !== N * (N - 1)) {
    throw new DataError({ file: edges.file, column: "shape" }, `expected N(N-1) = ${N * (N - 1)} entries per unit, got ${edges.shape[1]}`);
  }
  const values = new Float32Array(R * T * N);
  for (let u = 0; u < R; u++) {
    for (let i = 0; i < N; i++) {
      for (let t = 0; t < T; t++) {
        const x = data.data[(u * N + i) * T + t];
        if (!Number.isFinite(x)) throw new DataError({ file: data.file, column: CAUSALMMM_NODE_NAMES[i], row: u + 1 }, `value ${x} at step ${t} is not finite`);
        values[(u * T + t) * N + i] = x;
      }
    }
  }
  const k = ctx.shape[1];
  const graphs: Graph[] = [];
  const keyToGraph = new Map<string, number>();
  const graphOfUnit: number[] = [];
  const E = N * (N - 1);
  for (let u = 0; u < R; u++) {
    const row = edges.data.subarray(u * E, (u + 1) * E);
    row.forEach((x, e) => {
      if (x !== 0 && x !== 1) throw new DataError({ file: edges.file, column: `entry ${e}`, row: u + 1 }, `edge indicator ${x} is not 0 or 1`);
    });
    const key = row.join(",");
    let g = keyToGraph.get(key);
    if (g === undefined) {
      g = graphs.length;
      keyToGraph.set(key, g);
      graphs.push(decodeEdgeRow(row, N));
    }
    graphOfUnit.push(g);
  }
  const panel: Panel = {
    values,
    units: R,
    steps: T,
    nodes: N,
    nodeNames: [...CAUSALMMM_NODE_NAMES],
    roles: [...CAUSALMMM_ROLES],
    unitIds: Array.from({ length: R }, (_, u) => `u${String(u).padStart(3, "0")}`),
    context: { values: Float32Array.from(ctx.data), names: Array.from({ length: k }, (_, c) => `c${c}`) },
    truth: { graphs, graphOfUnit },
    provenance: {
      generator: "causalmmm-sim",
      params: {
        origin: "ChaunceyKung/CausalMMM commit 7d2fd43, data/sim",
        layout: "shuffled_data [units, nodes, steps]; edges entry i*(N-1) + (j<i ? j : j-1) = 1 when j -> i",
        unitIdIsRowOfFile: true,
      },
      source: dir,
    },
  };
  return validatePanel(panel, { requireDag: true });
}
