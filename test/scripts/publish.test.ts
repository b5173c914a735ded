/**
 * Published notebooks (scripts/publish.ts): an executed copy's outputs over its source
 * notebook, figures as PNG without their interactive HTML, code refused when it changed, and
 * the run's record in the metadata.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  type NotebookJson,
  type RunRecord,
  checkoutState,
  inferredRecord,
  publishNotebook,
  publishedNotebook,
  publishedOutput,
  runRecord,
} from "../../scripts/publish";

const figure = {
  output_type: "display_data",
  metadata: {},
  data: { "text/html": "<script>plotly bundle</script>", "image/png": "iVBOR", "text/plain": "fig" },
};
const table = { output_type: "display_data", metadata: {}, data: { "text/html": "<table></table>", "text/plain": "| a |" } };
const stream = { output_type: "stream", name: "stdout", text: ["AUROC 0.812\n"] };

function notebooks(): { source: NotebookJson; executed: NotebookJson } {
  const source: NotebookJson = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: "tslab" } },
    cells: [
      { cell_type: "markdown", metadata: {}, source: "# Question (revised prose)" },
      { cell_type: "code", metadata: {}, execution_count: null, outputs: [], source: ["const x = 1;\n", "console.log(x);"] },
      { cell_type: "code", metadata: {}, execution_count: null, outputs: [], source: "show(fig);" },
    ],
  };
  const executed: NotebookJson = {
    ...source,
    cells: [
      { cell_type: "markdown", metadata: {}, source: "# Question (old prose)" },
      {
        cell_type: "code",
        metadata: { execution: { "iopub.status.busy": "2026-01-02T03:04:05.000Z" } },
        execution_count: 1,
        outputs: [stream],
        source: "const x = 1;\nconsole.log(x);",
      },
      {
        cell_type: "code",
        metadata: { execution: { "shell.execute_reply": "2026-01-02T03:09:05.000Z" } },
        execution_count: 2,
        outputs: [figure, table],
        source: "show(fig);",
      },
    ],
  };
  return { source, executed };
}

/** Gives an executed copy a run record, as execute_notebook.py does. */
function recordRun(file: string, run: RunRecord): void {
  const nb = JSON.parse(readFileSync(file, "utf8")) as NotebookJson;
  writeFileSync(file, JSON.stringify({ ...nb, metadata: { ...nb.metadata, graph_mmm: { run } } }));
}

const record: RunRecord = runRecord("paper", { commit: "abc", dirty: false }, new Date("2026-01-02T03:00:00Z"), new Date("2026-01-02T03:10:00Z"));

describe("publishedOutput", () => {
  it("drops a figure's HTML where a PNG stands for it, and keeps tables and streams whole", () => {
    assert.deepEqual(publishedOutput(figure).data, { "image/png": "iVBOR", "text/plain": "fig" });
    assert.deepEqual(publishedOutput(table), table);
    assert.deepEqual(publishedOutput(stream), stream);
  });
});

describe("publishedNotebook", () => {
  it("takes the markdown from the source and the outputs, counts and cell times from the executed copy", () => {
    const { source, executed } = notebooks();
    const nb = publishedNotebook(executed, source, record);
    assert.equal(nb.cells[0].source, "# Question (revised prose)");
    assert.deepEqual(nb.cells[1].outputs, [stream]);
    assert.equal(nb.cells[1].execution_count, 1);
    assert.deepEqual(nb.cells[1].source, source.cells[1].source, "the source's own form of the code");
    assert.equal(nb.cells[2].outputs!.length, 2);
    assert.equal(nb.cells[2].outputs![0].data!["text/html"], undefined);
    assert.equal(nb.cells[2].outputs![1].data!["text/html"], "<table></table>");
    assert.deepEqual((nb.metadata.graph_mmm as { run: RunRecord }).run, record);
    assert.deepEqual(nb.metadata.kernelspec, { name: "tslab" });
  });

  it("refuses a code cell that changed since the run, and cells that do not line up", () => {
    const { source, executed } = notebooks();
    const edited = { ...source, cells: source.cells.map((c, k) => (k === 2 ? { ...c, source: "show(other);" } : c)) };
    assert.throws(
      () => publishedNotebook(executed, edited, record, "03-dice.ipynb"),
      /^Error: 03-dice\.ipynb: code cell 3 has changed since it was executed: run it again$/,
    );
    const shorter = { ...source, cells: source.cells.slice(0, 2) };
    assert.throws(() => publishedNotebook(executed, shorter, record, "x"), /the executed copy has 3 cells, the source 2/);
    const retyped = { ...source, cells: source.cells.map((c, k) => (k === 0 ? { ...c, cell_type: "raw" } : c)) };
    assert.throws(() => publishedNotebook(executed, retyped, record, "x"), /cell 1 is raw in the source, markdown in the executed copy/);
  });

  it("refuses an incomplete run: a code cell that did not run, or one that failed", () => {
    const { source, executed } = notebooks();
    const unrun = { ...executed, cells: executed.cells.map((c, k) => (k === 2 ? { ...c, execution_count: null, outputs: [] } : c)) };
    assert.throws(() => publishedNotebook(unrun, source, record, "x"), /^Error: x: code cell 3 did not run: only complete runs are published$/);
    const error = { output_type: "error", ename: "TypeError", evalue: "boom", traceback: [] };
    const failed = { ...executed, cells: executed.cells.map((c, k) => (k === 1 ? { ...c, outputs: [stream, error] } : c)) };
    assert.throws(() => publishedNotebook(failed, source, record, "x"), /^Error: x: code cell 2 failed: only complete runs are published$/);
  });

  it("keeps the source's other study metadata and replaces only the run", () => {
    const { source, executed } = notebooks();
    const withMeta = { ...source, metadata: { ...source.metadata, graph_mmm: { run: { ...record, commit: "old" }, note: "kept" } } };
    assert.deepEqual(publishedNotebook(executed, withMeta, record).metadata.graph_mmm, { run: record, note: "kept" });
  });
});

describe("publishNotebook", () => {
  it("writes the published form over the source with the copy's record, and refuses a smoke-scale run", () => {
    const dir = mkdtempSync(join(tmpdir(), "graph-mmm-publish-"));
    const { source, executed } = notebooks();
    const src = join(dir, "01-x.ipynb");
    const ran = join(dir, "ran.ipynb");
    writeFileSync(src, JSON.stringify(source));
    writeFileSync(ran, JSON.stringify(executed));
    recordRun(ran, record);
    const out = publishNotebook(ran, src);
    assert.deepEqual(out.record, record);
    const text = readFileSync(src, "utf8");
    const written = JSON.parse(text) as NotebookJson;
    assert.deepEqual(written.cells[1].outputs, [stream]);
    // as nbformat writes: sorted keys, one-space indent, a final newline
    assert.deepEqual(Object.keys(written), ["cells", "metadata", "nbformat", "nbformat_minor"]);
    assert.deepEqual(Object.keys(written.cells[1]), ["cell_type", "execution_count", "metadata", "outputs", "source"]);
    assert.ok(text.startsWith('{\n "cells": [') && text.endsWith("}\n"));
    assert.equal(out.bytes, readFileSync(src).length);

    recordRun(ran, { ...record, scale: "smoke" });
    assert.throws(() => publishNotebook(ran, src), /was run at smoke scale: only paper-scale runs are published/);
  });

  it("infers the run of a copy made before runs were recorded from its cell times", () => {
    const { executed } = notebooks();
    const r = inferredRecord("ran.ipynb", executed, "paper");
    assert.equal(r.started, "2026-01-02T03:04:05.000Z");
    assert.equal(r.finished, "2026-01-02T03:09:05.000Z");
    assert.equal(r.seconds, 300);
    assert.equal(r.source, "inferred");
    assert.equal(r.dirty, null, "whether the code had uncommitted changes then is not known");
    const bare = { ...executed, cells: executed.cells.map((c) => ({ ...c, metadata: {} })) };
    assert.throws(() => inferredRecord("ran.ipynb", bare, "paper"), /ran\.ipynb: no cell times and no run record/);
  });

  it("records the checkout's commit", (t) => {
    const state = checkoutState();
    if (state.commit === null) return t.skip("not a git checkout");
    assert.match(state.commit, /^[0-9a-f]{40}$/);
    assert.equal(typeof state.dirty, "boolean");
  });
});
