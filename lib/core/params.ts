/**
 * The parameter store every model owns: each weight is a named `tf.Variable`, initialised from
 * the study's seeded {@link Rng} (never from tfjs's global random state), so that the same seed
 * on the same backend gives the same numbers. Checkpoints and gradient workers read and write
 * stores by name; it lives in core/ so that train/ needs nothing from models/.
 */
import type { Rng } from "../rng";
import { tf } from "../tf";

export class ParamStore {
  private readonly vars = new Map<string, tf.Variable>();

  constructor(readonly rng: Rng) {}

  /** Xavier-normal weight `[fanIn, fanOut]` (the official CausalMMM initialisation). */
  xavier(name: string, fanIn: number, fanOut: number): tf.Variable {
    const std = Math.sqrt(2 / (fanIn + fanOut));
    return this.add(name, tf.tensor2d(this.rng.normals(fanIn * fanOut, std), [fanIn, fanOut]));
  }

  /** A constant-filled parameter of any shape. */
  constant(name: string, shape: number[], value: number): tf.Variable {
    return this.add(name, tf.fill(shape, value));
  }

  /** Registers an initial value (the store takes ownership of `init`). */
  add(name: string, init: tf.Tensor): tf.Variable {
    if (this.vars.has(name)) throw new Error(`parameter "${name}" defined twice`);
    const v = tf.variable(init, true, `${name}_${uniqueSuffix()}`);
    init.dispose();
    this.vars.set(name, v);
    return v;
  }

  get(name: string): tf.Variable {
    const v = this.vars.get(name);
    if (!v) throw new Error(`no parameter "${name}"`);
    return v;
  }

  names(): string[] {
    return [...this.vars.keys()];
  }

  /** Trainable variables (for the optimiser's var list). */
  variables(filter: (name: string) => boolean = () => true): tf.Variable[] {
    return [...this.vars.entries()].filter(([n]) => filter(n)).map(([, v]) => v);
  }

  /** Total number of scalars. */
  size(): number {
    return [...this.vars.values()].reduce((s, v) => s + v.size, 0);
  }

  /** Copies of all values, by name (caller disposes). */
  snapshot(): Map<string, tf.Tensor> {
    return new Map([...this.vars.entries()].map(([n, v]) => [n, v.clone()]));
  }

  /** Assigns values by name; every parameter must be present with its shape. */
  assign(values: Map<string, tf.Tensor> | Record<string, tf.Tensor>): void {
    const get = (n: string) => (values instanceof Map ? values.get(n) : values[n]);
    for (const [name, v] of this.vars) {
      const t = get(name);
      if (!t) throw new Error(`checkpoint has no parameter "${name}"`);
      if (t.shape.join("x") !== v.shape.join("x")) {
        throw new Error(`parameter "${name}": checkpoint shape [${t.shape}] differs from the model's [${v.shape}]`);
      }
      v.assign(t);
    }
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
  }
}

let suffix = 0;
function uniqueSuffix(): number {
  return ++suffix;
}
