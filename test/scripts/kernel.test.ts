/**
 * The tslab kernel as the study starts it (scripts/setup.mjs's kernel spec, with
 * scripts/kernel/send-queue.cjs preloaded) delivers every message: many lines printed in one
 * cell, many figures in a row, and a kernel that goes idle after them. Also the send queue on its
 * own, on a pair of zeromq sockets over 127.0.0.1.
 */
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { REPO_ROOT } from "../../lib/study";
import { runNotebook } from "../../scripts/notebooks";

interface Output {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, string | string[]>;
}
const joined = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join("") : (v ?? ""));

/** A notebook of code cells, written under build/ so that it resolves the `graph-mmm` package. */
function writeNotebook(dir: string, name: string, cells: string[]): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  const cell = (source: string) => ({ cell_type: "code", execution_count: null, metadata: {}, outputs: [], source });
  writeFileSync(
    file,
    JSON.stringify({
      nbformat: 4,
      nbformat_minor: 5,
      metadata: { kernelspec: { name: "tslab", display_name: "TypeScript", language: "typescript" } },
      cells: cells.map(cell),
    }),
  );
  return file;
}

const cellOutputs = (file: string): Output[][] => (JSON.parse(readFileSync(file, "utf8")) as { cells: { outputs: Output[] }[] }).cells.map((c) => c.outputs);

describe("the tslab kernel delivers every message", () => {
  const dir = join(REPO_ROOT, "build", "test-kernel");
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("a cell printing 600 lines delivers all 600, in order, and the next cell still runs", { timeout: 180_000 }, async () => {
    const nb = writeNotebook(dir, "lines.ipynb", [
      "for (let i = 0; i < 600; i++) console.log(`line ${i}`);",
      "for (let i = 0; i < 3000; i++) console.log(`more ${i}`);",
      "console.log('after');",
    ]);
    const run = await runNotebook(nb, { scale: "smoke", outDir: join(dir, "out"), cellTimeout: 120 });
    const [first, second, third] = cellOutputs(run.output).map((outs) =>
      outs
        .filter((o) => o.output_type === "stream" && o.name === "stdout")
        .map((o) => joined(o.text))
        .join(""),
    );
    assert.deepEqual(
      first.trim().split("\n"),
      Array.from({ length: 600 }, (_, i) => `line ${i}`),
    );
    assert.deepEqual(
      second.trim().split("\n"),
      Array.from({ length: 3000 }, (_, i) => `more ${i}`),
    );
    assert.equal(third.trim(), "after");
  });

  it("a cell showing 20 figures in a row shows all 20 (the first carries the plotly bundle)", { timeout: 300_000 }, async () => {
    const nb = writeNotebook(dir, "figures.ipynb", [
      [
        'import * as mmm from "graph-mmm";',
        "for (let k = 0; k < 20; k++) {",
        "  await mmm.plot.show(mmm.plot.lineChart({ name: `fig-${k}`, caption: `figure ${k}`, x: [0, 1, 2], series: [{ name: 's', y: [k, k + 1, k * 2] }] }));",
        "}",
      ].join("\n"),
      "console.log('after the figures');",
    ]);
    const run = await runNotebook(nb, { scale: "smoke", outDir: join(dir, "out"), figuresDir: join(dir, "figures"), cellTimeout: 240 });
    const [figs, next] = cellOutputs(run.output);
    const shown = figs.filter((o) => o.output_type === "display_data" && o.data?.["image/png"]);
    assert.deepEqual(
      shown.map((o) => joined(o.data?.["text/plain"]).split(":")[0]),
      Array.from({ length: 20 }, (_, k) => `fig-${k}`),
    );
    assert.ok(joined(shown[0].data?.["text/html"]).length > 1_000_000, "the first figure inlines the plotly bundle");
    assert.ok(
      shown.slice(1).every((o) => joined(o.data?.["text/html"]).length < 200_000),
      "later figures do not repeat it",
    );
    assert.match(next.map((o) => joined(o.text)).join(""), /after the figures/);
  });
});

describe("the send queue", () => {
  it("serialises sends on a socket: 3000 back-to-back sends arrive in order where the plain socket throws EBUSY", { timeout: 60_000 }, async () => {
    // without the queue (a fresh zeromq in a child process) the same loop throws
    const { spawnSync } = await import("node:child_process");
    const script = (preload: boolean) => `
      ${preload ? `require(${JSON.stringify(join(REPO_ROOT, "scripts", "kernel", "send-queue.cjs"))});` : ""}
      const zmq = require(${JSON.stringify(join(REPO_ROOT, "node_modules", "zeromq"))});
      (async () => {
        const push = new zmq.Push(); await push.bind("tcp://127.0.0.1:0");
        const pull = new zmq.Pull(); pull.connect(push.lastEndpoint);
        const big = "x".repeat(100000); let thrown = 0;
        for (let i = 0; i < 3000; i++) { try { push.send([String(i), big]); } catch { thrown++; } }
        let n = 0, inOrder = true;
        if (thrown === 0) for await (const [m] of pull) { if (Number(m.toString()) !== n) inOrder = false; if (++n === 3000) break; }
        console.log(JSON.stringify({ thrown, received: n, inOrder }));
        process.exit(0);
      })();`;
    const run = (preload: boolean) => {
      const r = spawnSync(process.execPath, ["-e", script(preload)], { encoding: "utf8", timeout: 50_000 });
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout.trim().split("\n").pop()!) as { thrown: number; received: number; inOrder: boolean };
    };
    const plain = run(false);
    assert.ok(plain.thrown > 0, "without the queue some sends throw (the failure the queue exists for)");
    assert.deepEqual(run(true), { thrown: 0, received: 3000, inOrder: true });
  });
});
