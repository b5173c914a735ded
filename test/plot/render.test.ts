import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { barChart, facets, figure, heatmap, heatmapGrid, lineChart, nullDistribution, scatterChart } from "../../lib/plot/figure";
import { closeRenderer, exportFigure, pngSize } from "../../lib/plot/render";
import { figureHtml } from "../../lib/plot/show";

describe("plot export", () => {
  // GRAPH_MMM_TEST_FIGURES=<folder> keeps the test figures there, to look at them.
  const keep = process.env.GRAPH_MMM_TEST_FIGURES;
  const dir = keep ? (mkdirSync(keep, { recursive: true }), keep) : mkdtempSync(join(tmpdir(), "graph-mmm-plot-"));
  after(async () => {
    await closeRenderer();
    if (!keep) rmSync(dir, { recursive: true, force: true });
  });

  it("writes a PNG of the figure's exact pixel size and an SVG", async () => {
    const fig = lineChart({
      name: "test-line",
      caption: "a test line",
      x: [0, 1, 2, 3],
      series: [
        { name: "a", y: [1, 3, 2, 4] },
        { name: "b", y: [2, 1, 0, 1], yaxis: "y2" },
      ],
      width: 640,
      height: 300,
    });
    const out = await exportFigure(fig, dir);
    assert.ok(existsSync(out.png) && statSync(out.png).size > 1000, "PNG exists and is not empty");
    assert.deepEqual(pngSize(readFileSync(out.png)), { width: 640, height: 300 });
    const svg = readFileSync(out.svg, "utf8");
    assert.match(svg, /^<svg[^>]*width="640"[^>]*height="300"/);
    assert.match(svg, /class="scatterlayer/);
  });

  it("renders a heatmap at its own default size", async () => {
    const fig = heatmap({
      name: "test-heat",
      caption: "a heatmap",
      z: [
        [0, 1],
        [1, 0],
      ],
      rowLabels: ["a", "b"],
      colLabels: ["a", "b"],
    });
    const out = await exportFigure(fig, dir);
    assert.deepEqual(pngSize(out.rendered.png), { width: fig.width, height: fig.height });
  });

  it("renders scatter, bar, null-distribution, facet and heatmap-grid figures at their sizes", async () => {
    const nodes = ["tv", "search", "visits", "sales"];
    const graph = [
      [0, 0, 1, 0],
      [0, 0, 1, 1],
      [0, 0, 0, 1],
      [0, 0, 0, 0],
    ];
    const learned = graph.map((row, j) => row.map((v, i) => (i === j ? 0 : 0.7 * v + 0.1 * ((i + 2 * j) % 3))));
    const nulls = Array.from({ length: 20 }, (_, k) => 0.08 + (0.3 * ((k * 7) % 20)) / 20);
    const figs = [
      scatterChart({
        name: "test-scatter",
        caption: "mean +/- SD per decoder",
        showText: true,
        xTitle: "target MSE@7",
        yTitle: "direct AR-CIG nAUPRC",
        groups: [
          { name: "oracle", x: [0.42], y: [0.93], xError: [0.02], yError: [0.03], text: ["oracle"] },
          { name: "joint GRU", x: [0.4], y: [0.12], xError: [0.03], yError: [0.05], text: ["joint GRU"] },
          { name: "graph-safe", x: [0.45], y: [0.71], xError: [0.02], yError: [0.08], text: ["graph-safe"] },
        ],
        lines: [
          { axis: "x", value: 0.462, label: "oracle MSE + 10%" },
          { axis: "y", value: 0.1, label: "nAUPRC = 0.1" },
        ],
      }),
      scatterChart({
        name: "test-scatter-log",
        caption: "a sweep on log axes",
        xLog: true,
        yLog: true,
        xTitle: "lambda",
        yTitle: "edges",
        groups: [
          { name: "seed 1", x: [0.001, 0.01, 0.1, 1], y: [40, 20, 8, 2], connect: true },
          { name: "seed 2", x: [0.001, 0.01, 0.1, 1], y: [38, 22, 9, 3], connect: true },
        ],
        lines: [{ axis: "y", value: 10, label: "true edges" }],
      }),
      barChart({
        name: "test-bars",
        caption: "grouped bars with SDs",
        categories: ["CIG", "AR-CIG direct", "AR-CIG total"],
        valueTitle: "nAUPRC",
        groups: [
          { name: "oracle", values: [0.9, 0.85, 0.8], errors: [0.05, 0.04, 0.06] },
          { name: "soft", values: [0.3, 0.2, NaN], errors: [0.1, 0.05, NaN] },
        ],
        lines: [{ value: 0.1, label: "nAUPRC = 0.1" }],
      }),
      barChart({
        name: "test-bars-h",
        caption: "horizontal bars",
        horizontal: true,
        categories: ["oracle", "joint GRU", "graph-safe hard"],
        valueTitle: "target MSE@7",
        groups: [{ name: "MSE", values: [0.42, 0.4, 0.45], errors: [0.02, 0.03, 0.02] }],
        height: 300,
      }),
      nullDistribution({
        name: "test-null",
        caption: "20 random rewirings and the observed values",
        values: nulls,
        nullName: "random rewirings",
        xTitle: "nAUPRC",
        markers: [
          { name: "oracle", x: 0.91 },
          { name: "learned", x: 0.27 },
        ],
      }),
      facets({
        name: "test-facets",
        caption: "three panels, shared y",
        columns: 2,
        shareY: true,
        xTitle: "epoch",
        yTitle: "AUROC",
        panels: ["seed 1", "seed 2", "seed 3"].map((title, k) => ({
          title,
          data: [
            { type: "scatter", mode: "lines", name: "Stage 1", x: [1, 2, 3, 4], y: [0.5, 0.6 + 0.05 * k, 0.7, 0.75] },
            { type: "scatter", mode: "lines", name: "CausalMMM", x: [1, 2, 3, 4], y: [0.5, 0.52, 0.55 - 0.02 * k, 0.56] },
          ],
          lines: [{ axis: "y" as const, value: 0.6, label: "Granger" }],
        })),
      }),
      heatmapGrid({
        name: "test-heatmap-grid",
        caption: "learned beside true graphs, one colour scale",
        labels: nodes,
        columns: 2,
        zmin: 0,
        zmax: 1,
        rowTitle: "sender j",
        colTitle: "receiver i",
        colorTitle: "influence",
        panels: [
          { title: "learned, graph 0", z: learned },
          { title: "true graph 0", z: graph },
          { title: "learned, graph 1", z: learned.map((r) => r.map((v) => v / 2)) },
          { title: "true graph 1", z: graph },
        ],
      }),
    ];
    for (const fig of figs) {
      const out = await exportFigure(fig, dir);
      assert.ok(statSync(out.png).size > 1000, `${fig.name}: PNG is not empty`);
      assert.deepEqual(pngSize(out.rendered.png), { width: fig.width, height: fig.height }, fig.name);
      assert.match(out.rendered.svg, /^<svg/, fig.name);
    }
  });

  it("rejects figure names that are not safe file names", () => {
    assert.throws(() => figure({ name: "../x", caption: "", data: [] }), /must match/);
  });

  it("inline HTML carries the static PNG, the spec, and the bundle only when asked", () => {
    const fig = lineChart({ name: "f", caption: "<b>c</b>", x: [0], series: [{ name: "s", y: [1] }] });
    const withBundle = figureHtml(fig, "AAAA", true);
    const without = figureHtml(fig, "AAAA", false);
    assert.match(withBundle, /data:image\/png;base64,AAAA/);
    assert.match(withBundle, /&lt;b&gt;c&lt;\/b&gt;/);
    assert.ok(withBundle.length > 1_000_000, "the Plotly bundle is inlined");
    assert.ok(without.length < 10_000, "later figures reuse window.Plotly");
    assert.doesNotMatch(without.replace(/<\/script>/g, ""), /<\/script/i);
    assert.equal((withBundle.match(/<\/script>/g) ?? []).length, 2, "no stray </script> inside the inlined bundle");
  });
});
