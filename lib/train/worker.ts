/**
 * Worker thread of the data-parallel gradient engine (see gradients.ts): loads the modules that
 * register the model's kind (their paths come from the model registry of the starting thread),
 * rebuilds the model from its registry key and configuration, then for each message sets the
 * weights it is sent and returns the gradient of its shard.
 */
import { parentPort, workerData } from "node:worker_threads";
import { type BackendName, initBackend } from "../backend";
import type { MatMulName } from "../native-matmul";
import { buildModel } from "../core/registry";
import type { ArrayBatch } from "../core/trainable";
import { tf } from "../tf";
import { localGradients } from "./gradients";

interface Request {
  batch: ArrayBatch;
  seed: number;
  weights: Record<string, Float32Array>;
}

async function main(): Promise<void> {
  const data = workerData as { kind: string; spec: Record<string, unknown>; backend: BackendName; matmul: MatMulName; modules: string[] };
  for (const m of data.modules) require(m);
  const choice = await initBackend(data.backend, null, { threads: 1, matmul: data.matmul }); // one thread per gradient worker
  if (choice.matmul !== data.matmul)
    throw new Error(`gradient worker: products on ${choice.matmul}, the training thread's on ${data.matmul} (${choice.matmulSkipped})`);
  const model = buildModel(data.kind, data.spec);
  parentPort!.postMessage({ ready: true });
  parentPort!.on("message", (req: Request) => {
    try {
      const values = new Map<string, tf.Tensor>();
      for (const n of model.params.names()) values.set(n, tf.tensor(req.weights[n], model.params.get(n).shape));
      model.params.assign(values);
      tf.dispose([...values.values()]);
      const { grads, terms } = localGradients(model, req.batch, req.seed);
      const out: Record<string, Float32Array> = {};
      for (const [n, g] of grads) {
        out[n] = (g.dataSync() as Float32Array).slice(); // a copy we may transfer
        g.dispose();
      }
      parentPort!.postMessage(
        { grads: out, terms },
        Object.values(out).map((a) => a.buffer as ArrayBuffer),
      );
    } catch (err) {
      parentPort!.postMessage({ error: (err as Error).stack ?? String(err) });
    }
  });
}

main().catch((err: unknown) => parentPort!.postMessage({ error: (err as Error).stack ?? String(err) }));
