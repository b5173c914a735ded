/**
 * The panel: the one data structure every model and diagnostic of the study reads.
 *
 * R units (shops, regions), N nodes (media channels, optional intermediates, one target),
 * T steps. Values are a dense row-major Float32Array with shape `[units, steps, nodes]`.
 */
import type { Graph } from "../graph";

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
}

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
  provenance: Provenance;
}

/** Index of node `i` at step `t` of unit `u` in `panel.values`. */
export function at(panel: Pick<Panel, "steps" | "nodes">, u: number, t: number, i: number): number {
  return (u * panel.steps + t) * panel.nodes + i;
}

/** Index of the target node; throws unless exactly one node has role "target". */
export function targetIndex(panel: Pick<Panel, "roles" | "nodeNames">): number {
  const idx = panel.roles.flatMap((r, i) => (r === "target" ? [i] : []));
  if (idx.length !== 1) {
    throw new Error(`panel must have exactly one target node, found ${idx.length} (${idx.map((i) => panel.nodeNames[i]).join(", ") || "none"})`);
  }
  return idx[0];
}
