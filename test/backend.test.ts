import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { spawnSync } from "node:child_process";
import { BACKEND_ENV, WASM_THREADS_ENV, describeBackend, initBackend, parseBackendRequest, parseThreads } from "../lib/backend";
import { tf } from "../lib/tf";

describe("backend", () => {
  it("parses requests and rejects unknown names with the allowed values", () => {
    assert.equal(parseBackendRequest(undefined), "auto");
    assert.equal(parseBackendRequest(" WASM "), "wasm");
    assert.equal(parseBackendRequest("node"), "tensorflow");
    assert.throws(() => parseBackendRequest("webgpu"), /GRAPH_MMM_BACKEND="webgpu".*auto, tensorflow, wasm, cpu/);
  });

  it("auto picks the first backend that loads and says why it skipped the others", async () => {
    const lines: string[] = [];
    const choice = await initBackend("auto", (l) => lines.push(l));
    assert.equal(tf.getBackend(), choice.name);
    let nodeLoads = true;
    try {
      require("@tensorflow/tfjs-node");
    } catch {
      nodeLoads = false;
    }
    if (nodeLoads) {
      assert.equal(choice.name, "tensorflow");
    } else {
      assert.equal(choice.name, "wasm");
      assert.equal(choice.skipped[0].name, "tensorflow");
      assert.match(choice.skipped[0].reason, /not installed|libtensorflow|Cannot|\w+/);
    }
    assert.deepEqual(lines, [describeBackend(choice)]);
    assert.match(lines[0], new RegExp(`^tensor backend: ${choice.name}`));
  });

  it("a forced backend is used, and the environment variable forces it too", async () => {
    const forced = await initBackend("cpu", null);
    assert.equal(forced.name, "cpu");
    assert.equal(tf.getBackend(), "cpu");
    assert.match(describeBackend(forced), /forced by GRAPH_MMM_BACKEND/);
    const before = process.env[BACKEND_ENV];
    process.env[BACKEND_ENV] = "wasm";
    try {
      const fromEnv = await initBackend(undefined, null);
      assert.equal(fromEnv.name, "wasm");
      assert.equal(tf.getBackend(), "wasm");
    } finally {
      if (before === undefined) delete process.env[BACKEND_ENV];
      else process.env[BACKEND_ENV] = before;
    }
  });

  it("the same computation gives the same numbers on wasm and cpu", async () => {
    const compute = () =>
      tf.tidy(() =>
        tf
          .matMul(
            tf.tensor2d([
              [1, 2],
              [3, 4],
            ]),
            tf.tensor2d([[0.5], [-1]]),
          )
          .arraySync(),
      );
    await initBackend("wasm", null);
    const a = compute();
    await initBackend("cpu", null);
    assert.deepEqual(compute(), a);
    assert.deepEqual(a, [[-1.5], [-2.5]]);
  });
});

describe("wasm kernel threads", () => {
  /** Runs a fresh Node process that starts the wasm backend with `threads` and prints its report and a product's values. */
  const child = (threads: string) => {
    const script = `
      const { initBackend } = require(${JSON.stringify(require.resolve("../lib/backend"))});
      const { tf } = require(${JSON.stringify(require.resolve("../lib/tf"))});
      (async () => {
        const choice = await initBackend("wasm", null);
        const a = tf.tensor2d(Array.from({ length: 300 * 200 }, (_, k) => Math.sin(k)), [300, 200]);
        const b = tf.tensor2d(Array.from({ length: 200 * 120 }, (_, k) => Math.cos(3 * k)), [200, 120]);
        const y = tf.sigmoid(tf.matMul(a, b)).dataSync();
        process.stdout.write(JSON.stringify({ threads: choice.threads, sum: Array.from(y).reduce((s, v) => s + v, 0), values: Array.from(y.slice(0, 50)) }));
      })();`;
    const r = spawnSync(process.execPath, ["-e", script], { env: { ...process.env, [WASM_THREADS_ENV]: threads }, encoding: "utf8", timeout: 120_000 });
    return { status: r.status, stderr: r.stderr, out: r.status === 0 ? (JSON.parse(r.stdout) as { threads: number; sum: number; values: number[] }) : null };
  };

  it("parses a thread count and rejects anything but an integer from 1 to 8", () => {
    assert.equal(parseThreads(undefined), 1);
    assert.equal(parseThreads("2"), 2);
    assert.throws(() => parseThreads("0"), /GRAPH_MMM_WASM_THREADS="0" is not a thread count/);
    assert.throws(() => parseThreads("1.5"), /integer from 1 to 8/);
  });

  it("starts two kernel threads under Node, gives the single thread's numbers to the last bit, and exits on its own", () => {
    const one = child("1");
    const two = child("2");
    assert.equal(one.status, 0, one.stderr);
    assert.equal(two.status, 0, two.stderr);
    assert.equal(one.out!.threads, 1);
    assert.equal(two.out!.threads, 2);
    assert.deepEqual(two.out!.values, one.out!.values);
    assert.equal(two.out!.sum, one.out!.sum);
  });
});
