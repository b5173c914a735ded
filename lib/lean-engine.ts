/**
 * Leaner bookkeeping around tfjs's kernels on the wasm and cpu backends: the same kernels, in the
 * same order, on the same buffers, so every number is tfjs's own, bit for bit.
 *
 * A small recurrent model's training step runs tens of thousands of kernels on tensors of a few
 * hundred values, so most of its time is spent around them, not in them: at 06's CausalMMM
 * configuration about three quarters. Three costs are cut here:
 * - **Maps instead of WeakMaps** for the engine's and the wasm backend's per-buffer records
 *   (set on every kernel's output, deleted when it is disposed): a WeakMap insertion is several
 *   times dearer and its entries are ephemerons the garbage collector must trace.
 * - **`runKernel` without the closures and repeated look-ups** of tfjs's generic path (the kernel
 *   looked up once instead of twice, no scope closures), for registered kernels when neither
 *   profiling nor the DEBUG and IS_TEST flags are on; otherwise tfjs's own path runs.
 * - **wasm's binary kernels (Add, Sub, Multiply, ...) called directly**, their operands' shapes
 *   written to a buffer kept on the wasm heap, instead of through Emscripten's `ccall`, which
 *   copies two fresh typed arrays onto the stack per call (registered by lib/backend.ts beside
 *   its other replacements of wasm's kernels, when this module is not turned off).
 *
 * It reads internals of tfjs-core and tfjs-backend-wasm 4.22, whose versions package.json pins;
 * `GRAPH_MMM_LEAN_ENGINE=0` leaves tfjs as it is (test/lean-engine.test.ts compares the two).
 */
import { tf } from "./tf";

/** The environment variable that turns this module off ("0"). */
export const LEAN_ENGINE_ENV = "GRAPH_MMM_LEAN_ENGINE";

/** A `WeakMap`'s interface over a `Map`, falling back to the records made before it was installed (when there were any). */
class MapStore<K extends object, V> {
  private readonly map = new Map<K, V>();
  constructor(private readonly before: WeakMap<K, V>) {}
  get(k: K): V | undefined {
    const v = this.map.get(k);
    return v !== undefined ? v : this.before.get(k);
  }
  set(k: K, v: V): this {
    this.map.set(k, v);
    return this;
  }
  has(k: K): boolean {
    return this.map.has(k) || this.before.has(k);
  }
  delete(k: K): boolean {
    const a = this.map.delete(k);
    const b = this.before.delete(k);
    return a || b;
  }
}

/** The parts of tfjs-core's engine (4.22) this module drives. */
interface Engine {
  state: {
    tensorInfo: WeakMap<object, unknown> | Map<object, unknown> | MapStore<object, unknown>;
    gradientDepth: number;
    kernelDepth: number;
    profiling: boolean;
  };
  ENV: { flags: Record<string, unknown> };
  backendName: string | null;
  backend: unknown;
  runKernel(name: string, inputs: tf.NamedTensorMap, attrs: tf.NamedAttrMap): tf.Tensor | tf.Tensor[];
  makeTensorFromTensorInfo(info: tf.TensorInfo): tf.Tensor;
  getTensorsForGradient(name: string, inputs: tf.NamedTensorMap, outputs: tf.Tensor[]): tf.Tensor[];
  saveTensorsForBackwardMode(tensors: tf.Tensor[]): tf.Tensor[];
  addTapeNode(name: string, inputs: tf.NamedTensorMap, outputs: tf.Tensor[], grad: null, saved: tf.Tensor[], attrs: tf.NamedAttrMap): void;
}

/** The part of the wasm and cpu backends (4.22) this module drives: their per-buffer records. */
interface BackendRecords {
  dataIdMap?: { data: WeakMap<object, unknown> | Map<object, unknown> | MapStore<object, unknown> };
  numDataIds?(): number;
}

/** Is the lean engine asked for (the default) or turned off by {@link LEAN_ENGINE_ENV}? */
export function leanEngineRequested(): boolean {
  return process.env[LEAN_ENGINE_ENV] !== "0";
}

/**
 * `Engine.runKernel` for a registered kernel, as tfjs-core's `runKernelFunc` runs it without
 * profiling: the kernel at kernel depth + 1, its outputs made tensors, the tensors its gradient
 * needs saved, and a tape node when a gradient is being recorded.
 */
function leanRunKernel(original: Engine["runKernel"]) {
  return function runKernel(this: Engine, kernelName: string, inputs: tf.NamedTensorMap, attrs: tf.NamedAttrMap): tf.Tensor | tf.Tensor[] {
    const st = this.state;
    const flags = this.ENV.flags;
    if (this.backendName == null || st.profiling || flags.DEBUG === true || flags.IS_TEST === true) return original.call(this, kernelName, inputs, attrs);
    const kernel = tf.getKernel(kernelName, this.backendName);
    if (kernel == null) throw new Error(`Kernel '${kernelName}' not registered for backend '${this.backendName}'`);
    const tapeOn = st.gradientDepth > 0 && st.kernelDepth === 0;
    const backend = this.backend;
    let out: tf.TensorInfo | tf.TensorInfo[];
    let outputs: tf.Tensor[];
    let saved: tf.Tensor[] = [];
    st.kernelDepth++;
    try {
      out = (kernel.kernelFunc as (args: unknown) => tf.TensorInfo | tf.TensorInfo[])({ inputs, attrs, backend });
      const infos = Array.isArray(out) ? out : [out];
      outputs = new Array<tf.Tensor>(infos.length);
      for (let k = 0; k < infos.length; k++) {
        const info = infos[k] as tf.TensorInfo & { rank?: number };
        outputs[k] = info.rank != null ? (info as unknown as tf.Tensor) : this.makeTensorFromTensorInfo(info);
      }
      if (tapeOn) saved = this.saveTensorsForBackwardMode(this.getTensorsForGradient(kernelName, inputs, outputs));
    } finally {
      st.kernelDepth--;
    }
    if (tapeOn) this.addTapeNode(kernelName, inputs, outputs, null, saved, attrs);
    return Array.isArray(out) ? outputs : outputs[0];
  };
}

/**
 * Installs the Maps and the lean `runKernel` on the active engine, when its backend is wasm or
 * cpu and {@link LEAN_ENGINE_ENV} is not "0".
 */
export function installLeanEngine(): void {
  if (!leanEngineRequested()) return;
  const name = tf.getBackend();
  if (name !== "wasm" && name !== "cpu") return;
  const engine = tf.engine() as unknown as Engine;
  const backend = engine.backend as BackendRecords;
  // a plain Map when nothing is stored yet (the usual case: nothing exists before the backend starts)
  const fresh = tf.memory().numTensors === 0 && (backend.numDataIds?.() ?? 0) === 0;
  const over = (m: WeakMap<object, unknown> | Map<object, unknown> | MapStore<object, unknown>) =>
    m instanceof Map || m instanceof MapStore ? m : fresh ? new Map<object, unknown>() : new MapStore(m);
  engine.state.tensorInfo = over(engine.state.tensorInfo);
  if (backend.dataIdMap) backend.dataIdMap.data = over(backend.dataIdMap.data);
  const proto = Object.getPrototypeOf(engine) as Engine;
  if (!Object.prototype.hasOwnProperty.call(engine, "runKernel")) {
    (engine as unknown as { runKernel: Engine["runKernel"] }).runKernel = leanRunKernel(proto.runKernel);
  }
}
