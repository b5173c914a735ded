/**
 * Graphs between the nodes of a panel.
 *
 * A graph is an N x N matrix with `G[j][i] = 1` meaning j -> i: the past of j drives i.
 * The diagonal is never part of the graph (a node's own past is always available and is no
 * attribution claim); metrics score the N(N-1) off-diagonal ordered pairs.
 */

/** 0/1 (or weighted/probability) adjacency, `g[j][i]` for j -> i. */
export type Graph = number[][];

/** An N x N graph of zeros. */
export function emptyGraph(n: number): Graph {
  return Array.from({ length: n }, () => new Array<number>(n).fill(0));
}

/** The complete graph (every off-diagonal pair). */
export function fullGraph(n: number): Graph {
  return Array.from({ length: n }, (_, j) => Array.from({ length: n }, (_, i) => (i === j ? 0 : 1)));
}

/** Off-diagonal entries in row-major order of (j, i), j != i: the N(N-1) scored pairs. */
export function offDiagonal(g: Graph): number[] {
  const out: number[] = [];
  const n = g.length;
  for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) if (i !== j) out.push(g[j][i]);
  return out;
}

/** The entry-wise mean of graphs of one size (e.g. per-unit graphs pooled over units). */
export function meanGraph(gs: readonly Graph[]): Graph {
  if (gs.length === 0) throw new Error("meanGraph: no graphs");
  return gs[0].map((row, j) => row.map((_, i) => gs.reduce((s, g) => s + g[j][i], 0) / gs.length));
}

/** `g` with every entry where `mask` is 0 set to 0. */
export function maskGraph(g: Graph, mask: Graph): Graph {
  return g.map((row, j) => row.map((v, i) => (mask[j][i] ? v : 0)));
}

/** Number of edges (non-zero off-diagonal entries). */
export function edgeCount(g: Graph): number {
  return offDiagonal(g).filter((v) => v !== 0).length;
}

/** Throws unless `g` is square N x N with finite entries. */
export function assertGraph(g: Graph, n: number, what = "graph"): void {
  if (g.length !== n) throw new Error(`${what}: expected ${n} rows, got ${g.length}`);
  g.forEach((row, j) => {
    if (row.length !== n) throw new Error(`${what}: row ${j} has ${row.length} entries, expected ${n}`);
    row.forEach((v, i) => {
      if (!Number.isFinite(v)) throw new Error(`${what}: entry [${j}][${i}] is ${v}`);
    });
  });
}

/** True when the 0/1 graph has no directed cycle (self-loops ignored). */
export function isAcyclic(g: Graph): boolean {
  return findCycle(g) === undefined;
}

/** A directed cycle as a node list, or undefined. Self-loops are ignored. */
export function findCycle(g: Graph): number[] | undefined {
  const n = g.length;
  const state = new Array<number>(n).fill(0); // 0 new, 1 on stack, 2 done
  const stack: number[] = [];
  const visit = (u: number): number[] | undefined => {
    state[u] = 1;
    stack.push(u);
    for (let v = 0; v < n; v++) {
      if (v === u || !g[u][v]) continue;
      if (state[v] === 1) return stack.slice(stack.indexOf(v)).concat(v);
      if (state[v] === 0) {
        const c = visit(v);
        if (c) return c;
      }
    }
    stack.pop();
    state[u] = 2;
    return undefined;
  };
  for (let u = 0; u < n; u++) {
    if (state[u] === 0) {
      const c = visit(u);
      if (c) return c;
    }
  }
  return undefined;
}

/** Transitive closure of a 0/1 graph (off-diagonal; the diagonal stays 0). */
export function transitiveClosure(g: Graph): Graph {
  const n = g.length;
  const c = g.map((row, j) => row.map((v, i) => (i !== j && v ? 1 : 0)));
  for (let k = 0; k < n; k++) for (let j = 0; j < n; j++) if (c[j][k]) for (let i = 0; i < n; i++) if (c[k][i] && i !== j) c[j][i] = 1;
  return c;
}
