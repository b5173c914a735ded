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

describe("wasm slicing from views of the heap", () => {
  /** x[begin : begin + size] of a nested array, by the definition. */
  const box = (x: unknown, begin: number[], size: number[]): unknown =>
    begin.length === 0 ? x : (x as unknown[]).slice(begin[0], begin[0] + size[0]).map((r) => box(r, begin.slice(1), size.slice(1)));

  it("slices and splits equal the definition: ranks 1-5, offsets, -1 sizes, int32 and bool, empty parts", async () => {
    await initBackend("wasm", null);
    const rng = (k: number) => Math.round(100 * Math.sin(7 * k + 1)) / 10;
    const cases: [number[], number[], number[]][] = [
      [[7], [2], [4]],
      [
        [5, 6],
        [1, 2],
        [3, 4],
      ],
      [
        [4, 5, 6],
        [1, 0, 2],
        [2, 5, 3],
      ],
      [
        [3, 4, 5, 6],
        [0, 1, 1, 3],
        [3, 2, 4, 3],
      ],
      [
        [2, 3, 2, 3, 4],
        [1, 1, 0, 1, 1],
        [1, 2, 2, 2, 2],
      ],
      [
        [3, 100],
        [1, 10],
        [2, 80],
      ],
    ];
    for (const [shape, begin, size] of cases) {
      const values = Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, k) => rng(k));
      const x = tf.tensor(values, shape);
      assert.deepEqual(x.slice(begin, size).arraySync(), box(x.arraySync(), begin, size), `slice of [${shape}] at [${begin}] size [${size}]`);
      x.dispose();
    }
    const empty = tf.zeros([4, 5]).slice([2, 0], [2, 0]);
    assert.deepEqual(empty.shape, [2, 0]);
    empty.dispose();
    const x = tf.tensor3d(
      Array.from({ length: 4 * 3 * 9 }, (_, k) => k),
      [4, 3, 9],
      "int32",
    );
    const nested = x.arraySync();
    assert.deepEqual(x.slice([1, 1, 2], [-1, -1, 4]).arraySync(), box(nested, [1, 1, 2], [3, 2, 4]), "-1 takes the rest");
    const parts = tf.split(x, [2, 0, 7], 2);
    assert.deepEqual(
      parts.map((p) => p.shape),
      [
        [4, 3, 2],
        [4, 3, 0],
        [4, 3, 7],
      ],
    );
    assert.deepEqual(parts[0].arraySync(), box(nested, [0, 0, 0], [4, 3, 2]));
    assert.deepEqual(parts[2].arraySync(), box(nested, [0, 0, 2], [4, 3, 7]));
    const rows = tf.split(x, 2, 0);
    assert.deepEqual(rows[1].arraySync(), box(nested, [2, 0, 0], [2, 3, 9]));
    assert.equal(parts[0].dtype, "int32");
    const flags = tf.tensor2d([true, false, true, true, false, false], [2, 3], "bool");
    assert.deepEqual(flags.slice([0, 1], [2, 2]).arraySync(), [
      [0, 1],
      [0, 0],
    ]);
    tf.dispose([x, flags, ...parts, ...rows]);
  });
});

describe("wasm splits and concatenations of large tensors through a transpose", () => {
  const box = (x: unknown, begin: number[], size: number[]): unknown =>
    begin.length === 0 ? x : (x as unknown[]).slice(begin[0], begin[0] + size[0]).map((r) => box(r, begin.slice(1), size.slice(1)));
  const join = (xs: unknown[], axis: number): unknown =>
    axis === 0 ? xs.flatMap((x) => x as unknown[]) : (xs[0] as unknown[]).map((_, i) => join(xs.map((x) => (x as unknown[])[i]), axis - 1));

  it("equal parts along every inner axis equal the definition, round-trip exactly and leave no data behind", async () => {
    await initBackend("wasm", null);
    const backend = tf.engine().backend;
    for (const [shape, parts] of [
      [[600, 96], 3],
      [[8, 300, 48], 3],
      [[40, 6, 50], 2],
      [[5, 4, 8, 40], 4],
    ] as [number[], number][]) {
      const n = shape.reduce((a, b) => a * b, 1);
      const x = tf.tensor(Array.from({ length: n }, (_, k) => Math.sin(0.37 * k) * 10), shape);
      const nested = x.arraySync();
      for (let axis = 1; axis < shape.length; axis++) {
        if (shape[axis] % parts !== 0) continue;
        const before = { tensors: tf.memory().numTensors, data: backend.numDataIds() };
        const pieces = tf.split(x, parts, axis);
        const w = shape[axis] / parts;
        pieces.forEach((p, k) => {
          const begin = shape.map((_, d) => (d === axis ? k * w : 0));
          const size = shape.map((s, d) => (d === axis ? w : s));
          assert.deepEqual(p.arraySync(), box(nested, begin, size), `part ${k} of [${shape}] along axis ${axis}`);
        });
        const joined = tf.concat(pieces, axis);
        assert.deepEqual(joined.shape, shape);
        assert.deepEqual(Array.from(joined.dataSync()), Array.from(x.dataSync()), `concat of the parts of [${shape}] along axis ${axis}`);
        const reversed = tf.concat([...pieces].reverse(), axis);
        assert.deepEqual(reversed.arraySync(), join([...pieces].reverse().map((p) => p.arraySync()), axis), `parts of [${shape}] in reverse along axis ${axis}`);
        tf.dispose([...pieces, joined, reversed]);
        assert.deepEqual({ tensors: tf.memory().numTensors, data: backend.numDataIds() }, before, `nothing left after [${shape}] along axis ${axis}`);
      }
      x.dispose();
    }
  });
});

describe("wasm stacking and concatenation from views of the heap", () => {
  /** Nested arrays joined along `axis` by the definition (at axis 0 the outer lists are joined). */
  const join = (xs: unknown[], axis: number): unknown =>
    axis === 0 ? xs.flatMap((x) => x as unknown[]) : (xs[0] as unknown[]).map((_, i) => join(xs.map((x) => (x as unknown[])[i]), axis - 1));
  const values = (n: number, from: number) => Array.from({ length: n }, (_, k) => Math.round(100 * Math.sin(3 * (k + from) + 2)) / 10);

  it("stack and concat equal the definition: every axis, short and long rows (the loop and the block copy), int32 and bool, empty parts", async () => {
    await initBackend("wasm", null);
    for (const shape of [
      [3, 4, 5],
      [2, 3, 70],
      [65, 2],
    ]) {
      for (let axis = 0; axis <= shape.length; axis++) {
        const xs = [0, 1, 2, 3].map((i) => tf.tensor(values(shape.reduce((a, b) => a * b, 1), 1000 * i), shape));
        const nested = xs.map((x) => x.arraySync());
        const stacked = tf.stack(xs, axis);
        const wrapped = nested.map((x) => {
          const wrap = (y: unknown, d: number): unknown => (d === axis ? [y] : (y as unknown[]).map((r) => wrap(r, d + 1)));
          return wrap(x, 0);
        });
        assert.deepEqual(stacked.arraySync(), join(wrapped, axis), `stack of 4 x [${shape}] at axis ${axis}`);
        if (axis < shape.length) {
          const parts = [xs[0], xs[1].slice(new Array(shape.length).fill(0), shape.map((s, d) => (d === axis ? Math.max(1, s - 1) : s)))];
          assert.deepEqual(tf.concat(parts, axis).arraySync(), join(parts.map((p) => p.arraySync()), axis), `concat of [${shape}] at axis ${axis}`);
          tf.dispose(parts[1]);
        }
        tf.dispose([...xs, stacked]);
      }
    }
    const ints = [0, 1, 2].map((i) => tf.tensor2d(values(6, i).map((v) => Math.round(v)), [2, 3], "int32"));
    const s = tf.stack(ints, 1);
    assert.equal(s.dtype, "int32");
    assert.deepEqual(s.arraySync(), join(ints.map((x) => (x.arraySync() as number[][]).map((r) => [r])), 1));
    const flags = tf.concat([tf.tensor2d([true, false], [2, 1], "bool"), tf.tensor2d([false, false, true, true], [2, 2], "bool")], 1);
    assert.deepEqual(flags.arraySync(), [
      [1, 0, 0],
      [0, 1, 1],
    ]);
    const withEmpty = tf.concat([tf.ones([2, 0]), tf.fill([2, 2], 3), tf.zeros([2, 0]), tf.fill([2, 1], 4)], 1);
    assert.deepEqual(withEmpty.arraySync(), [
      [3, 3, 4],
      [3, 3, 4],
    ]);
    tf.dispose([...ints, s, flags, withEmpty]);
  });

  it("unstack equals the definition on every axis, short and long rows, int32", async () => {
    await initBackend("wasm", null);
    const pick = (x: unknown, axis: number, i: number): unknown => (axis === 0 ? (x as unknown[])[i] : (x as unknown[]).map((r) => pick(r, axis - 1, i)));
    for (const [shape, dtype] of [
      [[4, 5, 3], "float32"],
      [[3, 2, 70], "float32"],
      [[2, 6], "int32"],
    ] as [number[], "float32" | "int32"][]) {
      const x = tf.tensor(values(shape.reduce((a, b) => a * b, 1), 7).map((v) => (dtype === "int32" ? Math.round(v) : v)), shape, dtype);
      const nested = x.arraySync();
      for (let axis = 0; axis < shape.length; axis++) {
        const parts = tf.unstack(x, axis);
        assert.equal(parts.length, shape[axis]);
        parts.forEach((p, i) => {
          assert.equal(p.dtype, dtype);
          assert.deepEqual(p.arraySync(), pick(nested, axis, i), `part ${i} of [${shape}] along axis ${axis}`);
        });
        tf.dispose(parts);
      }
      x.dispose();
    }
  });
});
