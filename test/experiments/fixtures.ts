/** Small generated panels and parameter helpers shared by the experiments tests. */
import assert from "node:assert/strict";
import type { Panel } from "../../lib/data/panel";
import { generateVarDag } from "../../lib/data/simulate";
import type { Graph } from "../../lib/graph";
import { tf } from "../../lib/tf";

/** A small linear VAR-DAG panel: 3 channels, one intermediate, the target (N = 5), one graph. */
export function linearPanel(
  seed: number,
  config: { units?: number; steps?: number; intermediates?: number; contextDim?: number; parentShare?: number } = {},
): Panel {
  const share = config.parentShare ?? 0.8;
  return generateVarDag({
    units: config.units ?? 16,
    steps: config.steps ?? 80,
    graphs: 1,
    channels: 3,
    intermediates: config.intermediates ?? 1,
    contextDim: config.contextDim ?? 0,
    linear: true,
    lags: 2,
    parentShareIntermediate: share,
    parentShareTarget: share,
    seed,
  }).panel;
}

/** Values of every parameter of a store, as plain arrays. */
export function paramValues(params: { names(): string[]; get(n: string): tf.Variable }): Map<string, Float32Array> {
  return new Map(params.names().map((n) => [n, Float32Array.from(params.get(n).dataSync())]));
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, "lengths differ");
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k] - b[k]));
  return m;
}

export const offDiagonalEdges = (g: Graph) => g.reduce((s, row, j) => s + row.reduce((a, v, i) => a + (i !== j && v ? 1 : 0), 0), 0);
