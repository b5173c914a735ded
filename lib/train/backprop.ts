/**
 * Gradients of a scalar with respect to variables, as `tf.variableGrads` computes them, with a
 * backward pass that frees memory as it goes.
 *
 * tfjs keeps every tensor saved for the backward pass and every intermediate gradient until the
 * whole backward pass has ended, so a recurrent model's peak memory is its forward tape plus
 * the gradient of every tensor on it. Here, walking the same tape in the same order with the same
 * kernels, each node's saved tensors and its outputs' gradients are disposed as soon as the node
 * has been differentiated, a partial gradient as soon as it has been added, and the temporaries
 * of a node's gradient function at the end of that node. The numbers are tfjs's own, bit for bit
 * (test/train/backprop.test.ts compares them). It reads the tape of tfjs-core's engine, whose
 * version package.json pins.
 *
 * The forward pass also saves tensors more cheaply: tfjs copies each tensor a kernel saves for
 * the backward pass through a full Identity kernel call plus a tape node of its own, which is
 * about a fifth of a small recurrent model's kernel calls. On the wasm and cpu backends a saved
 * copy here is a new handle on the same buffer (reference counted, what the Identity kernel does
 * on wasm), with no tape node: in a first-order gradient a saved copy is read only as a value by
 * the backward pass, never differentiated through. Gradients nested inside `f` (tape depth > 1)
 * keep tfjs's copies.
 */
import { withTransposeCache } from "../core/transpose-cache";
import { tf } from "../tf";

/** A node of tfjs-core's gradient tape (engine internals, tfjs-core 4.22). */
interface TapeNode {
  id: number;
  kernelName: string;
  inputs: Record<string, tf.Tensor>;
  outputs: tf.Tensor[];
  saved?: tf.Tensor[];
  gradient?: (dys: (tf.Tensor | null)[]) => Record<string, () => tf.Tensor>;
}

/** The parts of tfjs-core's engine this module drives. */
interface EngineTape {
  state: { activeTape: TapeNode[] | null; gradientDepth: number; tensorInfo: Map<object, { backend: unknown }> };
  backend: unknown;
  backendName: string;
  startTape(): void;
  endTape(): void;
  tidy<T>(name: string, fn: () => T): T;
  /** Copies a tensor to save it for the backward pass (with a tape node from the copy to the tensor). */
  clone(t: tf.Tensor): tf.Tensor;
  makeTensorFromTensorInfo(info: tf.TensorInfo, backend?: unknown): tf.Tensor;
}

/** Backends whose buffers are reference counted by `incRef` / `disposeData`, so that handles can share them. */
const SHARING_BACKENDS = new Set(["wasm", "cpu"]);

/**
 * Runs `fn` with the engine saving tensors for a first-order backward pass as shared handles
 * (see the module comment); nested gradients (depth > 1) and tensors of another backend keep
 * tfjs's copies.
 */
function withSharedSaves<T>(engine: EngineTape, fn: () => T): T {
  if (!SHARING_BACKENDS.has(engine.backendName)) return fn();
  const backend = engine.backend as { incRef(dataId: object): void };
  const original = engine.clone;
  // the engine clones only to save a tensor for the backward pass (a kernel's or a custom gradient's)
  engine.clone = function (this: EngineTape, t: tf.Tensor): tf.Tensor {
    if (this.state.gradientDepth !== 1 || t.dtype === "string" || this.state.tensorInfo.get(t.dataId)?.backend !== backend) return original.call(this, t);
    backend.incRef(t.dataId);
    return this.makeTensorFromTensorInfo({ dataId: t.dataId, shape: t.shape, dtype: t.dtype });
  };
  try {
    return fn();
  } finally {
    // the prototype's method again
    delete (engine as unknown as Record<string, unknown>).clone;
  }
}

/**
 * The tape's nodes on a path from a variable to y, each with only its inputs that depend on a
 * variable (tfjs prunes the tape the same way before its backward pass).
 */
function pathNodes(tape: TapeNode[], xs: tf.Tensor[], y: tf.Tensor): TapeNode[] {
  // plain loops over the inputs (for-in visits them in Object.entries' order): a training step's tape has ~10^4 nodes
  const fromX = new Set<number>(xs.map((x) => x.id));
  const nodeFromX = new Set<number>();
  for (const node of tape) {
    let hit = false;
    for (const name in node.inputs) {
      if (fromX.has(node.inputs[name].id)) {
        hit = true;
        break;
      }
    }
    if (hit) {
      nodeFromX.add(node.id);
      for (const o of node.outputs) fromX.add(o.id);
    }
  }
  const toY = new Set<number>([y.id]);
  const nodeToY = new Set<number>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i];
    if (!nodeFromX.has(node.id)) continue; // not kept below either way; its inputs reach y only through kept nodes' inputs
    let hit = false;
    for (const o of node.outputs) {
      if (toY.has(o.id)) {
        hit = true;
        break;
      }
    }
    if (hit) {
      nodeToY.add(node.id);
      for (const name in node.inputs) toY.add(node.inputs[name].id);
    }
  }
  const kept: TapeNode[] = [];
  for (const node of tape) {
    if (!nodeFromX.has(node.id) || !nodeToY.has(node.id)) continue;
    const inputs: Record<string, tf.Tensor> = {};
    for (const name in node.inputs) {
      const t = node.inputs[name];
      if (fromX.has(t.id)) inputs[name] = t;
    }
    kept.push({ ...node, inputs });
  }
  return kept;
}

/**
 * `tf.variableGrads(f, vars)` with a memory-lean backward pass: the value of `f` (a scalar) and
 * the gradient of each trainable variable of `vars` that `f` depends on, by variable name (the
 * caller disposes them). Cannot run inside another gradient computation.
 */
export function leanVariableGrads(f: () => tf.Scalar, vars: tf.Variable[]): { value: tf.Scalar; grads: Record<string, tf.Tensor> } {
  const engine = tf.engine() as unknown as EngineTape;
  if (engine.state.gradientDepth !== 0) throw new Error("leanVariableGrads cannot run inside another gradient computation");
  const xs = vars.filter((v) => v.trainable);
  if (xs.length === 0) throw new Error("leanVariableGrads: none of the variables is trainable");
  engine.startTape();
  let value: tf.Scalar | undefined;
  try {
    value = withSharedSaves(engine, () => engine.tidy("forward", f));
  } finally {
    engine.endTape();
    if (value === undefined) releaseTape(engine); // f threw: free what its forward pass saved
  }
  const tape = engine.state.activeTape ?? [];
  try {
    if (!(value instanceof tf.Tensor) || value.rank !== 0) {
      tf.dispose(value);
      throw new Error("leanVariableGrads: f must return a scalar tensor");
    }
    const nodes = pathNodes(tape, xs, value);
    if (nodes.length === 0) throw new Error("leanVariableGrads: f does not depend on any of the variables");
    const y = value;
    const list = engine.tidy("backward", () => withTransposeCache(() => backward(engine, nodes, xs, y)));
    const grads: Record<string, tf.Tensor> = {};
    xs.forEach((x, i) => {
      const g = list[i];
      if (g) grads[x.name] = g;
    });
    return { value, grads };
  } finally {
    releaseTape(engine);
  }
}

/** Disposes what the tape's nodes saved (a tensor already disposed is left alone) and drops the tape. */
function releaseTape(engine: EngineTape): void {
  for (const node of engine.state.activeTape ?? []) for (const t of node.saved ?? []) t.dispose();
  engine.state.activeTape = null;
}

/** The backward pass over the pruned tape: the gradient of each x (null where y does not depend on it). */
function backward(engine: EngineTape, nodes: TapeNode[], xs: tf.Tensor[], y: tf.Tensor): (tf.Tensor | null)[] {
  const keep = new Set(xs.map((x) => x.id));
  const acc = new Map<number, tf.Tensor>([[y.id, tf.ones(y.shape)]]);
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i];
    if (!node.gradient) throw new Error(`Cannot compute gradient: gradient function not found for ${node.kernelName}.`);
    const dys = node.outputs.map((o) => acc.get(o.id) ?? null);
    const names = Object.keys(node.inputs);
    // the gradient function's temporaries die with this scope; what it returns is a fresh tensor
    // per input (a clone where it hands back a tensor that is disposed below or shared)
    const dxs = engine.tidy(`grad ${node.kernelName}`, () => {
      const thunks = node.gradient!(dys);
      const seen = new Set<tf.Tensor>([...dys.filter((d): d is tf.Tensor => d !== null), ...(node.saved ?? [])]);
      return names.map((name) => {
        if (!(name in thunks)) throw new Error(`Cannot backprop through input ${name}. Available gradients found: ${Object.keys(thunks)}.`);
        let dx = thunks[name]();
        if (seen.has(dx)) dx = dx.clone();
        seen.add(dx);
        return dx;
      });
    });
    names.forEach((name, k) => {
      const x = node.inputs[name];
      const dx = dxs[k];
      if (dx.dtype !== "float32")
        throw new Error(`Error in gradient for op ${node.kernelName}: the gradient of input ${name} must be float32, got ${dx.dtype}`);
      if (!tf.util.arraysEqual(dx.shape, x.shape))
        throw new Error(`Error in gradient for op ${node.kernelName}: the gradient of input '${name}' has shape [${dx.shape}], the input [${x.shape}]`);
      const prev = acc.get(x.id);
      if (!prev) acc.set(x.id, dx);
      else {
        acc.set(x.id, tf.add(prev, dx));
        prev.dispose();
        dx.dispose();
      }
    });
    for (const o of node.outputs) {
      if (keep.has(o.id)) continue;
      acc.get(o.id)?.dispose();
      acc.delete(o.id);
    }
    for (const t of node.saved ?? []) t.dispose();
  }
  return xs.map((x) => acc.get(x.id) ?? null);
}
