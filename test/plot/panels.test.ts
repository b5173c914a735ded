// The panel figures are plain builder figures: these tests read their traces and axes.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Panel } from "../../lib/data/panel";
import type { PlotlyObject } from "../../lib/plot/figure";
import { graphHeatmap, targetSeriesChart, unitSeriesChart } from "../../lib/plot/panels";

/** 2 units x 3 steps x 3 nodes; value = 10 u + t + i / 10. */
function toy(): Panel {
  const R = 2;
  const T = 3;
  const values = new Float32Array(R * T * 3);
  for (let u = 0; u < R; u++) for (let t = 0; t < T; t++) for (let i = 0; i < 3; i++) values[(u * T + t) * 3 + i] = 10 * u + t + i / 10;
  return {
    values,
    units: R,
    steps: T,
    nodes: 3,
    nodeNames: ["ch", "mid", "y"],
    roles: ["channel", "intermediate", "target"],
    unitIds: ["a", "b"],
    provenance: { generator: "toy", params: {} },
  };
}

const axisTitle = (layout: PlotlyObject, id: string) => ((layout[id] as PlotlyObject).title as { text: string }).text;

describe("panel figures", () => {
  it("unitSeriesChart: one line per node of one unit, over the steps", () => {
    const fig = unitSeriesChart(toy(), { unit: 1, nodes: [0, 2], yTitle: "spend" });
    assert.equal(fig.name, "panel");
    assert.deepEqual(
      fig.data.map((t) => t.name),
      ["ch", "y"],
    );
    assert.deepEqual(fig.data[0].x, [0, 1, 2]);
    assert.deepEqual(fig.data[1].y, [10.2, 11.2, 12.2].map(Math.fround));
    assert.equal(axisTitle(fig.layout, "xaxis"), "step");
    assert.equal(axisTitle(fig.layout, "yaxis"), "spend");
  });

  it("targetSeriesChart: one line per unit (units beyond the panel left out)", () => {
    const fig = targetSeriesChart(toy(), { units: [0, 1, 2, 3], yTitle: "target", name: "t", caption: "c" });
    assert.equal(fig.name, "t");
    assert.deepEqual(
      fig.data.map((t) => t.name),
      ["a", "b"],
    );
    assert.deepEqual(fig.data[0].y, [0.2, 1.2, 2.2].map(Math.fround));
  });

  it("graphHeatmap: senders by receivers, 0/1 colour range, blank diagonal", () => {
    const fig = graphHeatmap(
      [
        [0, 1, 1],
        [0, 0, 1],
        [0, 0, 0],
      ],
      ["ch", "mid", "y"],
    );
    const t = fig.data[0];
    assert.equal(t.type, "heatmap");
    assert.deepEqual(t.z, [
      [null, 1, 1],
      [0, null, 1],
      [0, 0, null],
    ]);
    assert.equal(t.zmin, 0);
    assert.equal(t.zmax, 1);
    assert.equal(axisTitle(fig.layout, "yaxis"), "sender j");
    assert.equal(axisTitle(fig.layout, "xaxis"), "receiver i");
  });
});
