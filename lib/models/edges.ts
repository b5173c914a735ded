/**
 * The edge list of the NRI-style models: all N(N-1) off-diagonal ordered pairs in
 * receiver-major order, the order of the CausalMMM shipped data: edge
 * `e = i * (N - 1) + (j < i ? j : j - 1)` is j -> i. Receiver-major order lets the decoder sum
 * a receiver's incoming messages with one reshape instead of a scatter.
 */
import { tf } from "../tf";

export interface EdgeIndex {
  nodes: number;
  /** Number of edges, N(N-1). */
  count: number;
  /** Sender j of each edge. */
  send: Int32Array;
  /** Receiver i of each edge. */
  recv: Int32Array;
  /** Flat index j * N + i of each edge in an N x N matrix `G[j][i]`. */
  flat: Int32Array;
}

export function edgeIndex(nodes: number): EdgeIndex {
  const count = nodes * (nodes - 1);
  const send = new Int32Array(count);
  const recv = new Int32Array(count);
  const flat = new Int32Array(count);
  let e = 0;
  for (let i = 0; i < nodes; i++) {
    for (let j = 0; j < nodes; j++) {
      if (j === i) continue;
      send[e] = j;
      recv[e] = i;
      flat[e] = j * nodes + i;
      e++;
    }
  }
  return { nodes, count, send, recv, flat };
}

/** Edge weights from graph matrices. graph: [B, N, N] (G[j][i]) or [N, N] -> [B, E] (or [1, E]). */
export function graphToEdges(idx: EdgeIndex, graph: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => {
    const g = graph.rank === 2 ? graph.expandDims(0) : graph;
    const flat = g.reshape([g.shape[0], idx.nodes * idx.nodes]);
    return tf.gather(flat, tf.tensor1d(idx.flat, "int32"), 1) as tf.Tensor2D;
  });
}

/** Graph matrices from edge weights: weights [B][E] -> B matrices `G[j][i]` (diagonal 0). */
export function edgesToGraphs(idx: EdgeIndex, weights: ArrayLike<number>, batch: number): number[][][] {
  const out: number[][][] = [];
  for (let b = 0; b < batch; b++) {
    const g = Array.from({ length: idx.nodes }, () => new Array<number>(idx.nodes).fill(0));
    for (let e = 0; e < idx.count; e++) g[idx.send[e]][idx.recv[e]] = weights[b * idx.count + e];
    out.push(g);
  }
  return out;
}

/**
 * Per-edge sums of a receiver term and a sender term, without gather (whose gradient the wasm
 * backend lacks): `out[b, e] = recv[b, i] + send[b, j]` for edge e = j -> i, receiver-major.
 * The N x N sums are formed by broadcasting and the diagonal is dropped with the
 * reshape trick: flat[1:] viewed as [N-1, N+1] has the diagonal in its last column.
 * recv, send: [B, N, H] -> [B, E, H].
 */
export function edgePairs(recv: tf.Tensor, send: tf.Tensor): tf.Tensor3D {
  return tf.tidy(() => {
    const [B, N, H] = recv.shape as [number, number, number];
    const full = recv.reshape([B, N, 1, H]).add(send.reshape([B, 1, N, H])); // [B, recv i, send j, H]
    return full
      .reshape([B, N * N, H])
      .slice([0, 1, 0], [B, N * N - 1, H])
      .reshape([B, N - 1, N + 1, H])
      .slice([0, 0, 0, 0], [B, N - 1, N, H])
      .reshape([B, N * (N - 1), H]) as tf.Tensor3D;
  });
}
