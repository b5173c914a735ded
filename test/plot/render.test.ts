import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { figure, heatmap, lineChart } from "../../lib/plot/figure";
import { closeRenderer, exportFigure, pngSize } from "../../lib/plot/render";
import { figureHtml } from "../../lib/plot/show";

describe("plot export", () => {
  after(closeRenderer);
  const dir = mkdtempSync(join(tmpdir(), "graph-mmm-plot-"));

  it("writes a PNG of the figure's exact pixel size and an SVG", async () => {
    const fig = lineChart({
      name: "test-line",
      caption: "a test line",
      x: [0, 1, 2, 3],
      series: [{ name: "a", y: [1, 3, 2, 4] }, { name: "b", y: [2, 1, 0, 1], yaxis: "y2" }],
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
    const fig = heatmap({ name: "test-heat", caption: "a heatmap", z: [[0, 1], [1, 0]], rowLabels: ["a", "b"], colLabels: ["a", "b"] });
    const out = await exportFigure(fig, dir);
    assert.deepEqual(pngSize(out.rendered.png), { width: fig.width, height: fig.height });
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
