import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BACKEND_ENV, describeBackend, initBackend, parseBackendRequest } from "../lib/backend";
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
