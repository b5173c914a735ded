/**
 * Executes every notebook at `smoke` scale through Jupyter + tslab (the real stack) and checks
 * what each produced; then renders the tour to HTML and checks, in headless Chromium, that the
 * inlined Plotly bundle drew the figure (no CDN).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { describe, it } from "node:test";
import { launchChromium } from "../lib/plot/render";
import { NotebookError, environment, listNotebooks, runNotebook } from "../scripts/notebooks";
import { checkClaimBlocks } from "./claim-check";
import { spearmanByHand } from "./stats";

interface Output {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, string | string[]>;
  ename?: string;
}
interface Cell {
  cell_type: string;
  outputs?: Output[];
}

const joined = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join("") : (v ?? ""));
const outputsOf = (file: string): Output[] => (JSON.parse(readFileSync(file, "utf8")) as { cells: Cell[] }).cells.flatMap((c) => c.outputs ?? []);
/** What a cell printed, with each HTML table's Markdown form (its text/plain) in its place. */
const streamText = (outs: Output[]) =>
  outs.map((o) => (o.output_type === "stream" ? joined(o.text) : isTable(o) ? `${joined(o.data?.["text/plain"])}\n` : "")).join("");
const isTable = (o: Output) => o.output_type === "display_data" && joined(o.data?.["text/html"]).includes("graph-mmm-table");
const figures = (outs: Output[]) => outs.filter((o) => o.output_type === "display_data" && o.data?.["image/png"] && o.data?.["text/html"]);

/** Notebooks whose results include a table. */
const WITH_TABLES = new Set([
  "03-dice.ipynb",
  "04-bypass.ipynb",
  "05-graph-swap.ipynb",
  "06-stress.ipynb",
  "07-budget.ipynb",
  "08-your-data.ipynb",
  "09-graph-recovery.ipynb",
  "10-bypass-map.ipynb",
]);

/** What each notebook must show beyond "no error and at least one figure". */
const EXPECTED: Record<string, (outs: Output[]) => void> = {
  "00-tour.ipynb": (outs) => {
    assert.match(streamText(outs), /tensor backend: (tensorflow|wasm|cpu)/);
    assert.match(streamText(outs), /least-squares estimate = 0\.[78]\d\d/);
    assert.equal(figures(outs).length, 1);
  },
  "01-simulate.ipynb": (outs) => {
    const text = streamText(outs);
    assert.match(
      text,
      /CausalMMM shipped data: 300 units, 4 distinct series \(units per series: 99, 100, 100, 1\), 3 distinct graphs \(units per graph: 100, 100, 100\)/,
    );
    assert.match(text, /ours, sparse target: (\d+) units, \1 distinct series/);
    assert.match(text, /distinct contexts in the CausalMMM data: 300 of 300 units/);
    assert.match(text, /sparse target at paper size \(R = 100, d = 8, T = 200\): generated in \d+ ms/);
    assert.deepEqual(
      figures(outs).map((f) => joined(f.data?.["text/plain"]).split(":")[0]),
      ["01-series", "01-flights", "01-saturation", "01-graphs", "01-external", "01-external-graphs"],
    );
  },
  "03-dice.ipynb": (outs) => {
    const text = streamText(outs);
    assert.match(text, /\|DICE Stage 1\|0\.\d{3} \+\/- 0\.\d{3}\|/, "the graph-recovery table has Stage 1 over seeds");
    assert.match(text, /\|CausalMMM\|0\.\d{3}/);
    assert.match(text, /\|stability \(\d+ seeds\)\|/, "the three support selections are compared");
    assert.match(text, /dice-hard: MSE@7 target \d\.\d{4}/);
    assert.deepEqual(names(outs), ["03-stage1-auroc", "03-causalmmm-auroc", "03-stage1-graphs", "03-threshold-mse", "03-stage2-training"]);
  },
  "04-bypass.ipynb": (outs) => {
    const text = streamText(outs);
    for (const d of ["no-graph", "full-graph", "high-capacity", "oracle", "DICE-hard", "DICE-soft"])
      assert.match(text, new RegExp(`\\|${d}\\|\\d\\.\\d{3} \\+/- `), `the table has a ${d} row`);
    // the no-graph decoder has no cross-node path: nAUPRC exactly 0, relative error to the true influence exactly 1, on both benchmarks
    const noGraph = text.match(/\|no-graph\|[^|]+\|[^|]+\|0\.000 \+\/- 0\.000\|0\.000 \+\/- 0\.000\|1\.000 \+\/- 0\.000\|1\.000 \+\/- 0\.000\|/g) ?? [];
    assert.equal(noGraph.length, 2, "a no-graph row per benchmark");
    assert.match(text, /bypass prone, seed \d+: target MSE@7 of linear forecasters: /);
    // every printed verdict follows from the numbers printed beside it: claims 1 and 3 on both benchmarks
    assert.equal(checkClaimBlocks(markdownText(outs)), 4);
    assert.deepEqual(names(outs), ["04-bypass-scatter", "04-bypass-influence"]);
  },
  "10-bypass-map.ipynb": (outs) => {
    const text = streamText(outs);
    // the oracle is the reference: its ratio is exactly 1 in every cell; the no-graph decoder has no cross-node influence (relative error exactly 1)
    const oracleRows = text.match(/\|oracle\|1\.000 \+\/- [^|]+\|/g) ?? [];
    assert.equal(oracleRows.length, 4, "an oracle row per cell (2 x 2 at smoke scale)");
    assert.equal((text.match(/\|no-graph\|[^|]+\|1\.000 \+\/- [^|]+\|1\.000 \+\/- /g) ?? []).length, 4);
    const md = markdownText(outs);
    // the counts in the reading agree with the table printed above it
    const within = /in (\d+) of 4 cells/.exec(md);
    assert.ok(within, "the reading counts the cells");
    const ratios = [...text.matchAll(/\|(no-graph|full-graph|high-capacity)\|(\d+\.\d{3}) \+\/- /g)].map((m) => Number(m[2]));
    const cells = [0, 1, 2, 3].filter((k) => ratios.slice(3 * k, 3 * k + 3).every((r) => r <= 1.1)).length;
    assert.equal(Number(within[1]), cells, "cells where every decoder forecasts within 10% of the oracle");
    assert.deepEqual(names(outs), ["10-bypass-map-forecast", "10-bypass-map-attribution"]);
  },
  "05-graph-swap.ipynb": (outs) => {
    const text = streamText(outs);
    for (const g of ["learned", "oracle", "empty", "full", "top-k", "stability", "roles", "rewired \\(null\\)"])
      assert.match(text, new RegExp(`\\|${g}\\|`), `the swap table has ${g}`);
    // nothing crosses the empty graph: nAUPRC 0 on all pairs and the target's column, relative error to the true influence exactly 1, on both benchmarks
    const empty = text.match(/\|empty\|[^|]+\|0\.000 \+\/- 0\.000\|0\.000 \+\/- 0\.000\|1\.000 \+\/- 0\.000\|1\.000 \+\/- 0\.000\|/g) ?? [];
    assert.equal(empty.length, 2, "an empty-graph row per benchmark");
    // every printed verdict follows from the numbers printed beside it: claims 3 and 5 on both benchmarks
    assert.equal(checkClaimBlocks(markdownText(outs)), 4);
    assert.deepEqual(names(outs), ["05-swap-null", "05-selections"]);
  },
  "06-stress.ipynb": (outs) => {
    const text = streamText(outs);
    for (const m of ["DICE Stage 1", "CausalMMM", "Granger \\(per unit\\)"])
      assert.match(text, new RegExp(`\\|base / ${m}\\|0\\.\\d{3}`), `the stress table has the base setting for ${m}`);
    assert.match(text, /\|rawlog \/ DICE Stage 1\|/);
    // Granger is one deterministic fit: no spread over epochs
    assert.match(text, /\|base \/ Granger \(per unit\)\|[^|]+\|[^|]+\|[^|]+\|0\.000 \+\/- nan\|nan \+\/- nan\|/);
    assert.match(markdownText(outs), /\*\*Claim 4 (holds|holds in part|does not hold)\*\*/);
    assert.deepEqual(names(outs), ["06-stress"]);
  },
  "07-budget.ipynb": (outs) => {
    const text = streamText(outs);
    for (const a of ["true optimum", "observed mix", "equal split", "oracle", "DICE-hard", "high-capacity", "no-graph", "DeepCausalMMM-style"])
      assert.match(text, new RegExp(`\\|${a}\\|`), `the budget table has ${a}`);
    // anchors of the gain share: the optimum captures all of it, the equal split none
    assert.match(text, /\|true optimum\|nan \+\/- nan\|[^|]+\|1\.000 \+\/- /);
    assert.match(text, /\|equal split\|nan \+\/- nan\|[^|]+\|0\.000 \+\/- /);
    // each benchmark's verdict agrees with the Spearman correlation recomputed here from the rows it printed
    const blocks = markdownText(outs).split(/^### /m).slice(1);
    assert.equal(blocks.length, 2, "a conclusion per benchmark");
    for (const block of blocks) {
      const verdict = /\*\*Forecast accuracy (does not rank|roughly ranks) these allocations\*\*.* is (-?\d\.\d{3}|n\/a) over (\d+) models/.exec(block);
      assert.ok(verdict, `a verdict line in: ${block.slice(0, 80)}`);
      const rows = [...block.matchAll(/^- (?!best )(.+): MSE@7 (-?\d+\.\d{3}), gain captured (-?\d+\.\d{3}|n\/a)$/gm)].map((m) => ({
        mse: Number(m[2]),
        gain: Number(m[3]),
      }));
      assert.equal(rows.length, Number(verdict[3]));
      const rho = spearmanByHand(
        rows.map((r) => -r.mse),
        rows.map((r) => r.gain),
      );
      // rounding to 3 decimals can tie printed values that differ: allow slack only then
      const tied = (v: number[]) => new Set(v).size < v.length;
      const slack = tied(rows.map((r) => r.mse)) || tied(rows.map((r) => r.gain)) ? 0.15 : 1e-3;
      if (verdict[2] === "n/a") assert.ok(Number.isNaN(rho), `no correlation printed, but ${rho} recomputed`);
      else assert.ok(Math.abs(rho - Number(verdict[2])) <= slack, `Spearman ${rho} recomputed vs ${verdict[2]} printed`);
      const ranks = rows.length >= 3 && Number(verdict[2]) > 0.8;
      assert.equal(verdict[1], ranks ? "roughly ranks" : "does not rank", `the verdict disagrees with its correlation ${verdict[2]}`);
    }
    assert.match(text, /strongest edge in panel order: ch\d -> ch\d \(0\.\d{3}\); in reversed order that edge is 0\.000/);
    assert.deepEqual(names(outs), ["07-response-curves", "07-accuracy-vs-gain", "07-allocations", "07-deepcausal-order"]);
  },
  "08-your-data.ipynb": (outs) => {
    const text = streamText(outs);
    for (const p of ["meridian", "deepcausalmmm"])
      assert.match(text, new RegExp(`${p}: \\d+ units x \\d+ steps x \\d+ nodes diagnosed in [\\d.]+ s; wrote \\d+ files`));
    for (const d of ["no-graph", "full-graph", "high-capacity", "DICE-hard", "DICE-soft"]) assert.match(text, new RegExp(`\\|${d}\\|\\d+\\.\\d{4}\\|`));
    const md = markdownText(outs);
    assert.match(md, /\*\*Meridian\.\*\* Reported graph: (DICE Stage 1|Granger \(pooled\)|PCMCI \(pooled\))/);
    assert.match(md, /\*\*DeepCausalMMM panel\.\*\* Reported graph: /);
    assert.match(md, /Best target MSE@7/);
    assert.deepEqual(names(outs), [
      "08-meridian-learned-graph",
      "08-meridian-candidates",
      "08-meridian-influence",
      "08-deepcausalmmm-learned-graph",
      "08-deepcausalmmm-candidates",
      "08-deepcausalmmm-influence",
    ]);
  },
  "09-graph-recovery.ipynb": (outs) => {
    const text = streamText(outs);
    for (const m of ["linear-short", "linear-long", "media-short", "media-per-unit", "hetero-scales", "confounded"]) {
      for (const k of ["DICE Stage 1 \\(mean graph\\)", "Granger \\(pooled\\)", "PCMCI \\(pooled\\)", "diagnose \\(reported graph\\)"])
        assert.match(text, new RegExp(`\\|${m} / ${k}\\|0\\.\\d{3} \\+/- 0\\.\\d{3}\\|`), `the recovery table has ${m} / ${k} over seeds`);
    }
    assert.match(markdownText(outs), /\*\*Claim 6 (holds|holds in part|does not hold)\*\* on 6 data sets/);
    // every unconstrained diagnose fit (6 members x 3 seeds at smoke scale) is either told apart or tied
    const ties = /on (\d+) of (\d+) unconstrained fits; on the other (\d+) the tie rule decided\. Reported: ([^\n]+)\./.exec(markdownText(outs));
    assert.ok(ties, "the conclusion says how often the tie rule decided");
    assert.equal(Number(ties[2]), 18);
    assert.equal(Number(ties[1]) + Number(ties[3]), 18);
    const reported = [...ties[4].matchAll(/ (\d+)(,|$)/g)].reduce((a, m) => a + Number(m[1]), 0);
    assert.equal(reported, 18, `reported counts: ${ties[4]}`);
    assert.deepEqual(names(outs), ["09-recovery-auroc"]);
  },
};

/** Whether an executed notebook carries a valid signature in the checkout's Jupyter data folder (so a server opening it trusts it). */
function signed(file: string): boolean {
  const env = environment();
  const code =
    "import sys, nbformat\nfrom nbformat.sign import NotebookNotary\n" +
    "print(NotebookNotary(data_dir=sys.argv[1]).check_signature(nbformat.read(sys.argv[2], 4)))";
  const r = spawnSync(env.python, ["-c", code, env.jupyterData, file], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim() === "True";
}

const names = (outs: Output[]) => figures(outs).map((f) => joined(f.data?.["text/plain"]).split(":")[0]);
const markdownText = (outs: Output[]) => outs.map((o) => joined(o.data?.["text/markdown"])).join("\n");

describe("notebooks at smoke scale", () => {
  const outDir = mkdtempSync(join(tmpdir(), "graph-mmm-nb-"));
  const figDir = join(outDir, "figures");
  const notebooks = listNotebooks();

  it("the study has its notebooks, the tour first", () => {
    assert.ok(notebooks.length >= 1);
    assert.equal(basename(notebooks[0]), "00-tour.ipynb");
  });

  for (const nb of notebooks) {
    const name = basename(nb);
    it(`${name} executes and shows its outputs`, { timeout: 30 * 60_000 }, async () => {
      const run = await runNotebook(nb, { scale: "smoke", outDir, figuresDir: figDir });
      const outs = outputsOf(run.output);
      assert.deepEqual(
        outs.filter((o) => o.output_type === "error").map((o) => o.ename),
        [],
      );
      assert.ok(figures(outs).length >= 1, `${name} shows at least one figure`);
      for (const f of figures(outs)) {
        const stem = joined(f.data?.["text/plain"]).split(":")[0];
        assert.ok(existsSync(join(figDir, `${stem}.png`)), `${stem}.png exported`);
      }
      // result tables are HTML tables, never Markdown printed to stdout
      const printed = outs
        .filter((o) => o.output_type === "stream")
        .map((o) => joined(o.text))
        .join("");
      assert.doesNotMatch(printed, /^\|:?-+/m, `${name} prints no Markdown table`);
      if (WITH_TABLES.has(name)) assert.ok(outs.some(isTable), `${name} shows its results as an HTML table`);
      EXPECTED[name]?.(outs);
      if (name === "00-tour.ipynb") {
        assert.equal(signed(run.output), true, "the executed copy is signed (trusted) for the notebook server, its run record included");
        const record = (JSON.parse(readFileSync(run.output, "utf8")) as { metadata: { graph_mmm?: { run?: Record<string, unknown> } } }).metadata.graph_mmm
          ?.run;
        assert.equal(record?.scale, "smoke");
        assert.equal(record?.source, "recorded");
        const seconds = (Date.parse(String(record?.finished)) - Date.parse(String(record?.started))) / 1000;
        assert.ok(seconds > 0 && Math.abs(seconds - Number(record?.seconds)) < 0.2 && seconds <= run.seconds + 1, `run record ${JSON.stringify(record)}`);
      }
    });
  }

  it("a failing cell stops the run with the notebook's name, the cell's number and the error", { timeout: 5 * 60_000 }, async () => {
    const bad = join(outDir, "99-broken.ipynb");
    const cell = (source: string) => ({ cell_type: "code", execution_count: null, metadata: {}, outputs: [], source });
    writeFileSync(
      bad,
      JSON.stringify({
        nbformat: 4,
        nbformat_minor: 5,
        metadata: { kernelspec: { name: "tslab", display_name: "TypeScript", language: "typescript" } },
        cells: [
          cell("const ok = 1 + 1;"),
          { cell_type: "markdown", metadata: {}, source: "text" },
          cell("throw new Error(`boom ${ok}`);"),
          cell("console.log('never');"),
        ],
      }),
    );
    await assert.rejects(runNotebook(bad, { scale: "smoke", outDir: join(outDir, "broken") }), (err: unknown) => {
      assert.ok(err instanceof NotebookError);
      assert.equal(err.notebook, "99-broken.ipynb");
      assert.equal(err.cell, 3);
      assert.match(err.message, /notebook 99-broken\.ipynb, cell 3 failed: .*boom 2/);
      return true;
    });
    assert.doesNotMatch(streamText(outputsOf(join(outDir, "broken", "99-broken.ipynb"))), /never/);
  });

  it("an executed notebook rendered to HTML draws its plot in a real browser", { timeout: 10 * 60_000 }, async () => {
    const executed = join(outDir, "00-tour.ipynb");
    assert.ok(existsSync(executed), "the tour ran first");
    const env = JSON.parse(readFileSync(join(__dirname, "..", "..", "build", "environment.json"), "utf8")) as { python: string };
    const r = spawnSync(env.python, ["-m", "nbconvert", "--to", "html", "--output-dir", outDir, executed], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const html = join(outDir, "00-tour.html");
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`file://${html}`, { waitUntil: "domcontentloaded" });
      await page.waitForSelector("figure .main-svg", { timeout: 60_000 });
      const drawn = await page.evaluate(() => ({
        svgs: document.querySelectorAll("figure .main-svg").length,
        traces: document.querySelectorAll("figure .scatterlayer .trace").length,
        staticImages: document.querySelectorAll("figure img").length,
      }));
      assert.ok(drawn.svgs >= 1, "Plotly drew an SVG");
      assert.equal(drawn.traces, 2, "both series are drawn");
      assert.equal(drawn.staticImages, 0, "the live plot replaced the static fallback");
    } finally {
      await browser.close();
    }
    assert.ok(readdirSync(figDir).some((f) => f.endsWith(".svg")));
  });
});
