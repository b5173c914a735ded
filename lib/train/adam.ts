/**
 * Adam with one pass over each parameter's elements on the wasm backend. tfjs's Adam updates a
 * parameter with about sixteen element-wise kernels (moments, bias corrections, square root,
 * step), each a kernel call with its own output tensor: for a small recurrent model that was
 * about two fifths of a training step's kernel calls. Here the same float32 operations, in the
 * same order, run in one loop over views of the wasm heap (each JavaScript operation rounded to
 * float32 with Math.fround: for +, -, *, / and square root this is the float32 result), so the
 * numbers are tfjs's to the last bit (test/train/adam.test.ts compares them). The moments are
 * updated in place; each parameter gets a new buffer, since the wasm backend keeps packed copies
 * of product operands by buffer. Off wasm, or with a moment shared by another tensor, a step is
 * tfjs's own. Checkpoints (getWeights, setWeights) are tfjs's.
 */
import { tf } from "../tf";

/** The parts of the wasm backend this uses (tfjs-backend-wasm 4.22). */
interface WasmHeap {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
  refCount(dataId: object): number;
}

/** The state of tfjs-core 4.22's AdamOptimizer this reads and writes. */
interface AdamState {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: ({ originalName: string; variable: tf.Variable } | undefined)[];
  accumulatedSecondMoment: ({ originalName: string; variable: tf.Variable } | undefined)[];
  incrementIterations(): void;
}

const f32 = Math.fround;
const info = (t: tf.Tensor): tf.TensorInfo => ({ dataId: t.dataId, shape: t.shape, dtype: t.dtype });

export class HeapAdam extends tf.AdamOptimizer {
  constructor(learningRate: number, beta1 = 0.9, beta2 = 0.999, epsilon: number | null = null) {
    super(learningRate, beta1, beta2, epsilon ?? undefined);
  }

  override applyGradients(gradients: Parameters<tf.AdamOptimizer["applyGradients"]>[0]): void {
    const backend = tf.backend() as unknown as WasmHeap;
    if (tf.getBackend() !== "wasm" || Array.isArray(gradients)) return super.applyGradients(gradients);
    const variableGradients = gradients as unknown as tf.NamedTensorMap;
    const s = this as unknown as AdamState;
    const names = Object.keys(variableGradients);
    const vars = names.map((n) => tf.engine().registeredVariables[n]);
    // the moments, created as tfjs creates them (zeros, not trainable, named after the variable)
    names.forEach((name, i) => {
      s.accumulatedFirstMoment[i] ??= { originalName: `${name}/m`, variable: tf.tidy(() => tf.zerosLike(vars[i]).variable(false)) };
      s.accumulatedSecondMoment[i] ??= { originalName: `${name}/v`, variable: tf.tidy(() => tf.zerosLike(vars[i]).variable(false)) };
    });
    const own = (t: tf.Tensor) => t.dtype === "float32" && backend.refCount(t.dataId) === 1;
    const moments = names.map((_, i) => [s.accumulatedFirstMoment[i]!.variable, s.accumulatedSecondMoment[i]!.variable]);
    const inPlace =
      own(s.accBeta1) &&
      own(s.accBeta2) &&
      names.every((n, i) => {
        const g = variableGradients[n];
        return g == null || (g.dtype === "float32" && vars[i].dtype === "float32" && own(moments[i][0]) && own(moments[i][1]));
      });
    if (!inPlace) return super.applyGradients(gradients);

    const b1 = f32(s.beta1);
    const b2 = f32(s.beta2);
    const c1 = f32(1 - s.beta1);
    const c2 = f32(1 - s.beta2);
    const eps = f32(s.epsilon);
    const step = f32(-s.learningRate);
    const acc = () => [backend.typedArrayFromHeap(info(s.accBeta1)), backend.typedArrayFromHeap(info(s.accBeta2))] as Float32Array[];
    const [a1, a2] = acc().map((a) => a[0]);
    const d1 = f32(1 - a1);
    const d2 = f32(1 - a2);
    names.forEach((name, i) => {
      const grad = variableGradients[name];
      if (grad == null) return;
      const value = vars[i];
      const out = backend.makeOutput(value.shape.slice(), "float32");
      // views taken after the output's allocation, which may grow (and move) the heap
      const g = backend.typedArrayFromHeap(info(grad)) as Float32Array;
      const w = backend.typedArrayFromHeap(info(value)) as Float32Array;
      const m = backend.typedArrayFromHeap(info(moments[i][0])) as Float32Array;
      const v = backend.typedArrayFromHeap(info(moments[i][1])) as Float32Array;
      const o = backend.typedArrayFromHeap(out) as Float32Array;
      for (let k = 0; k < o.length; k++) {
        const gk = g[k];
        const mk = f32(f32(m[k] * b1) + f32(gk * c1));
        const vk = f32(f32(v[k] * b2) + f32(f32(gk * gk) * c2));
        m[k] = mk;
        v[k] = vk;
        const denom = f32(f32(Math.sqrt(f32(vk / d2))) + eps);
        o[k] = f32(f32(f32(f32(mk / d1) / denom) * step) + w[k]);
      }
      const next = tf.engine().makeTensorFromTensorInfo(out);
      value.assign(next);
      next.dispose();
    });
    const [acc1, acc2] = acc();
    acc1[0] = f32(a1 * b1);
    acc2[0] = f32(a2 * b2);
    s.incrementIterations();
  }
}
