/**
 * Gradients of a batch, computed on this thread or split across worker threads.
 *
 * Data parallelism: a batch is cut into one shard per worker (rows), each shard's gradient is
 * computed by an identical copy of the model, and the gradients are combined in a fixed order,
 * weighted by the shards' row counts. This equals the full batch's gradient when the loss is a
 * mean over rows (every model of the study normalises its loss by the batch size). The first
 * shard runs on this thread, the others in `worker_threads`, so two workers use both cores.
 * A worker rebuilds the model through the model registry (lib/core/registry.ts), loading the
 * module that registers its kind by path.
 */
import { Worker } from "node:worker_threads";
import { join } from "node:path";
import { currentBackend } from "../backend";
import { WORKER_YOUNG_GENERATION_MB } from "../heap";
import { modelModules } from "../core/registry";
import { type ArrayBatch, type Trainable, batchRows, sliceBatch } from "../core/trainable";
import { tf } from "../tf";
import { leanVariableGrads } from "./backprop";

export interface GradientResult {
  /** Gradient per trainable parameter name (caller disposes). */
  grads: Map<string, tf.Tensor>;
  /** Loss terms, averaged over rows. */
  terms: Record<string, number>;
}

export interface GradientEngine {
  compute(batch: ArrayBatch, seed: number): Promise<GradientResult>;
  close(): Promise<void>;
}

/** Gradients on this thread. */
export function localGradients(model: Trainable, batch: ArrayBatch, seed: number): GradientResult {
  const names = model.trainableNames();
  const vars = names.map((n) => model.params.get(n));
  let termNames: string[] = [];
  let termValues: Float32Array | Int32Array | Uint8Array = new Float32Array(0);
  const { value, grads } = leanVariableGrads(() => {
    const terms = model.loss(batch, seed);
    termNames = Object.keys(terms);
    termValues = tf.stack(termNames.map((k) => terms[k])).dataSync();
    return terms.total;
  }, vars);
  value.dispose(); // the loss itself: its value was read as terms.total
  const out = new Map<string, tf.Tensor>();
  names.forEach((n, i) => {
    const g = grads[vars[i].name];
    if (!g) throw new Error(`parameter "${n}" received no gradient: it does not influence the loss`);
    out.set(n, g);
  });
  const terms: Record<string, number> = {};
  termNames.forEach((k, i) => (terms[k] = termValues[i]));
  return { grads: out, terms };
}

/** Mixes a step seed and a shard index into a shard seed. */
export function shardSeed(seed: number, shard: number): number {
  let h = (seed ^ Math.imul(shard + 1, 0x9e3779b9)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  return (h ^ (h >>> 13)) >>> 0;
}

class LocalEngine implements GradientEngine {
  constructor(private readonly model: Trainable) {}
  async compute(batch: ArrayBatch, seed: number): Promise<GradientResult> {
    return localGradients(this.model, batch, shardSeed(seed, 0));
  }
  async close(): Promise<void> {}
}

interface WorkerReply {
  grads?: Record<string, Float32Array>;
  terms?: Record<string, number>;
  error?: string;
}

class ParallelEngine implements GradientEngine {
  private readonly workers: Worker[];
  private ready: Promise<void>[];

  constructor(
    private readonly model: Trainable,
    threads: number,
  ) {
    const backend = currentBackend()?.name ?? "wasm";
    const matmul = currentBackend()?.matmul ?? "wasm"; // every shard on the same product kernel
    this.workers = Array.from(
      { length: threads },
      () =>
        new Worker(join(__dirname, "worker.js"), {
          workerData: { kind: model.kind, spec: model.spec, backend, matmul, modules: modelModules(model.kind) },
          resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
        }),
    );
    this.ready = this.workers.map(
      (w) =>
        new Promise<void>((resolve, reject) => {
          w.once("message", (m: { ready?: boolean; error?: string }) =>
            m.ready ? resolve() : reject(new Error(`gradient worker failed to start: ${m.error}`)),
          );
          w.once("error", reject);
        }),
    );
  }

  private ask(w: Worker, msg: unknown, transfer: ArrayBuffer[]): Promise<WorkerReply> {
    return new Promise((resolve, reject) => {
      const onError = (e: Error) => reject(e);
      w.once("error", onError);
      w.once("message", (m: WorkerReply) => {
        w.off("error", onError);
        if (m.error) reject(new Error(`gradient worker: ${m.error}`));
        else resolve(m);
      });
      w.postMessage(msg, transfer);
    });
  }

  async compute(batch: ArrayBatch, seed: number): Promise<GradientResult> {
    await Promise.all(this.ready);
    const rows = batchRows(batch);
    const shards = this.workers.length + 1;
    const bounds = Array.from({ length: shards + 1 }, (_, k) => Math.round((k * rows) / shards));
    // every parameter (frozen ones too) so that the copies are identical
    const weights: Record<string, Float32Array> = {};
    for (const n of this.model.params.names()) weights[n] = this.model.params.get(n).dataSync() as Float32Array;
    const replies = this.workers.map((w, k) => {
      const shard = sliceBatch(batch, bounds[k + 1], bounds[k + 2]);
      const copy: Record<string, Float32Array> = {};
      for (const [n, v] of Object.entries(weights)) copy[n] = v.slice();
      const transfer = [...Object.values(shard).map((a) => a.data.buffer as ArrayBuffer), ...Object.values(copy).map((v) => v.buffer as ArrayBuffer)];
      return this.ask(w, { batch: shard, seed: shardSeed(seed, k + 1), weights: copy }, transfer);
    });
    const local = localGradients(this.model, sliceBatch(batch, bounds[0], bounds[1]), shardSeed(seed, 0));
    const remote = await Promise.all(replies);
    const share = (k: number) => (bounds[k + 1] - bounds[k]) / rows;
    const grads = new Map<string, tf.Tensor>();
    for (const [name, g0] of local.grads) {
      const sum = tf.tidy(() => {
        let acc = g0.mul(share(0));
        remote.forEach((r, k) => {
          const data = r.grads?.[name];
          if (!data) throw new Error(`gradient worker returned no gradient for "${name}"`);
          acc = acc.add(tf.tensor(data, g0.shape).mul(share(k + 1)));
        });
        return acc;
      });
      g0.dispose();
      grads.set(name, sum);
    }
    const terms: Record<string, number> = {};
    for (const k of Object.keys(local.terms)) {
      terms[k] = local.terms[k] * share(0) + remote.reduce((s, r, i) => s + (r.terms?.[k] ?? NaN) * share(i + 1), 0);
    }
    return { grads, terms };
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** A gradient engine with `workers` shards: 1 = this thread only. */
export function gradientEngine(model: Trainable, workers: number): GradientEngine {
  if (!Number.isInteger(workers) || workers < 1) throw new Error(`workers must be a positive integer, got ${workers}`);
  return workers === 1 ? new LocalEngine(model) : new ParallelEngine(model, workers - 1);
}
