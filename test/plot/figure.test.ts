// The figure builders produce plain Plotly specs: these tests read the specs (traces, axes,
// shapes) and the validation errors; render.test.ts draws them.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  FIGURE_DEFAULTS,
  PALETTE,
  barChart,
  facets,
  heatmap,
  heatmapGrid,
  histogram,
  lineChart,
  nullDistribution,
  referenceLineShapes,
  scatterChart,
  type PlotlyObject,
} from "../../lib/plot/figure";

const axis = (fig: { layout: PlotlyObject }, id: string) => fig.layout[id] as PlotlyObject;
const shapes = (fig: { layout: PlotlyObject }) => fig.layout.shapes as PlotlyObject[];

describe("referenceLineShapes", () => {
  it("draws a vertical line for axis x and a horizontal one for axis y, across the plot, labelled", () => {
    const [v, h] = referenceLineShapes([
      { axis: "x", value: 2.5, label: "oracle + 10%" },
      { axis: "y", value: 0.1, label: "nAUPRC 0.1", dash: "dot", color: "red" },
    ]);
    assert.deepEqual(v, {
      type: "line",
      xref: "x",
      yref: "y domain",
      x0: 2.5,
      x1: 2.5,
      y0: 0,
      y1: 1,
      line: { color: "#444444", width: 1.5, dash: "dash" },
      layer: "above",
      label: { text: "oracle + 10%", textposition: "end", textangle: -90, xanchor: "right", font: { size: 11, color: "#444444" } },
    });
    assert.deepEqual(h.label, { text: "nAUPRC 0.1", textposition: "end", textangle: 0, xanchor: "right", yanchor: "bottom", font: { size: 11, color: "red" } });
    assert.equal(h.xref, "x domain");
    assert.equal(h.yref, "y");
    assert.deepEqual([h.x0, h.x1, h.y0, h.y1], [0, 1, 0.1, 0.1]);
    assert.deepEqual(h.line, { color: "red", width: 1.5, dash: "dot" });
  });

  it("refers to a subplot's axes and rejects a value that is not finite", () => {
    const [s] = referenceLineShapes([{ axis: "y", value: 1 }], "x3", "y3");
    assert.equal(s.xref, "x3 domain");
    assert.equal(s.yref, "y3");
    assert.equal(s.label, undefined, "no label unless given");
    assert.throws(() => referenceLineShapes([{ axis: "x", value: NaN, label: "m" }]), /not a finite number/);
  });
});

describe("scatterChart", () => {
  const groups = [
    { name: "oracle", x: [0.5], y: [0.9], xError: [0.05], yError: [0.02], text: ["oracle"] },
    { name: "soft", x: [0.52, 0.6], y: [0.2, NaN], yError: [0.1, NaN] },
  ];

  it("makes one marker trace per group with error bars and hover text", () => {
    const fig = scatterChart({ name: "s", caption: "c", groups, xTitle: "MSE", yTitle: "nAUPRC" });
    assert.equal(fig.data.length, 2);
    const [a, b] = fig.data;
    assert.equal(a.type, "scatter");
    assert.equal(a.mode, "markers");
    assert.equal(a.name, "oracle");
    assert.deepEqual(a.text, ["oracle"]);
    assert.equal(a.textposition, undefined, "text is for hover unless showText");
    assert.deepEqual(a.error_x, { type: "data", array: [0.05], visible: true });
    assert.deepEqual(a.error_y, { type: "data", array: [0.02], visible: true });
    assert.deepEqual(b.error_y, { type: "data", array: [0.1, null], visible: true }, "NaN SD: no error bar");
    assert.equal(b.error_x, undefined);
    assert.deepEqual(axis(fig, "xaxis"), { title: { text: "MSE" } });
    assert.deepEqual(axis(fig, "yaxis"), { title: { text: "nAUPRC" } });
    assert.equal(fig.layout.shapes, undefined);
    assert.equal(fig.width, FIGURE_DEFAULTS.width);
  });

  it("writes labels beside the points, joins points, uses log axes and draws reference lines", () => {
    const fig = scatterChart({
      name: "s",
      caption: "c",
      showText: true,
      xLog: true,
      yLog: true,
      groups: [{ name: "sweep", x: [1, 10, 100], y: [3, 2, 1], text: ["a", "b", "c"], connect: true, symbol: "square", color: "#123456" }],
      lines: [
        { axis: "x", value: 11, label: "oracle + 10%" },
        { axis: "y", value: 0.1, label: "nAUPRC 0.1" },
      ],
    });
    const [t] = fig.data;
    assert.equal(t.mode, "lines+markers+text");
    assert.equal(t.textposition, "top center");
    assert.deepEqual(t.marker, { size: 9, symbol: "square", color: "#123456" });
    assert.deepEqual(t.line, { color: "#123456" });
    assert.equal(axis(fig, "xaxis").type, "log");
    assert.equal(axis(fig, "yaxis").type, "log");
    assert.deepEqual(
      shapes(fig).map((s) => [s.x0, s.y0, (s.label as PlotlyObject).text]),
      [
        [11, 0, "oracle + 10%"],
        [0, 0.1, "nAUPRC 0.1"],
      ],
    );
    assert.equal(axis(fig, "xaxis").autorangeoptions, undefined, "no padding on log axes (Plotly mishandles it there)");
  });

  it("widens a linear axis for a line beyond the data and error bars", () => {
    const fig = scatterChart({ name: "s", caption: "c", groups: [{ name: "g", x: [1, 2], y: [0, 1], xError: [0.5, 0.5] }], lines: [{ axis: "x", value: 4 }] });
    assert.deepEqual((axis(fig, "xaxis").autorangeoptions as PlotlyObject).include, [4 - 0.05 * 3.5, 4 + 0.05 * 3.5], "span 0.5 .. 4");
    assert.equal(axis(fig, "yaxis").autorangeoptions, undefined, "no horizontal line");
  });

  it("rejects mismatched lengths, negative errors, repeated groups and non-positive values on log axes", () => {
    const one =
      (g: object, extra: object = {}) =>
      () =>
        scatterChart({ name: "s", caption: "", groups: [{ name: "g", x: [1, 2], y: [1, 2], ...g }], ...extra });
    assert.throws(one({ y: [1] }), /figure "s": group "g" y has 1 values, expected 2/);
    assert.throws(one({ yError: [0.1] }), /yError has 1 values/);
    assert.throws(one({ text: ["a", "b", "c"] }), /text has 3 values/);
    assert.throws(one({ xError: [0.1, -1] }), /xError\[1\] = -1 is not a non-negative error/);
    assert.throws(one({ x: [0, 1] }, { xLog: true }), /x\[0\] = 0 cannot be drawn on a log axis/);
    assert.throws(one({}, { yLog: true, lines: [{ axis: "y", value: 0 }] }), /reference line at 0 cannot be drawn on a log axis/);
    assert.throws(
      () =>
        scatterChart({
          name: "s",
          caption: "",
          groups: [
            { name: "g", x: [], y: [] },
            { name: "g", x: [], y: [] },
          ],
        }),
      /group "g" appears twice/,
    );
    assert.throws(() => scatterChart({ name: "s", caption: "", groups: [] }), /at least one group/);
    assert.throws(() => scatterChart({ name: "bad name", caption: "", groups: [{ name: "g", x: [], y: [] }] }), /must match/);
  });
});

describe("barChart", () => {
  const spec = {
    name: "b",
    caption: "c",
    categories: ["CIG", "AR-CIG direct"],
    groups: [
      { name: "oracle", values: [0.9, 0.8], errors: [0.05, NaN] },
      { name: "soft", values: [0.3, null] },
    ],
    categoryTitle: "diagnostic",
    valueTitle: "nAUPRC",
  };

  it("groups bars by category, one trace per group, with error bars and a categorical x axis", () => {
    const fig = barChart(spec);
    assert.equal(fig.layout.barmode, "group");
    const [a, b] = fig.data;
    assert.deepEqual([a.type, a.name, a.orientation], ["bar", "oracle", "v"]);
    assert.deepEqual(a.x, ["CIG", "AR-CIG direct"]);
    assert.deepEqual(a.y, [0.9, 0.8]);
    assert.deepEqual(a.error_y, { type: "data", array: [0.05, null], visible: true });
    assert.deepEqual(b.y, [0.3, null]);
    assert.equal(b.error_y, undefined);
    assert.deepEqual(axis(fig, "xaxis"), { title: { text: "diagnostic" }, type: "category", automargin: true });
    assert.deepEqual(axis(fig, "yaxis"), { title: { text: "nAUPRC" } });
  });

  it("turns horizontal: values on x, categories down y (first on top), lines on the value axis", () => {
    const fig = barChart({ ...spec, horizontal: true, lines: [{ value: 0.1, label: "nAUPRC 0.1" }] });
    const [a] = fig.data;
    assert.equal(a.orientation, "h");
    assert.deepEqual(a.x, [0.9, 0.8]);
    assert.deepEqual(a.y, ["CIG", "AR-CIG direct"]);
    assert.ok(a.error_x && !a.error_y);
    assert.equal(axis(fig, "yaxis").autorange, "reversed");
    assert.equal(axis(fig, "yaxis").type, "category");
    const { title, autorangeoptions } = axis(fig, "xaxis") as { title: unknown; autorangeoptions: { include: number[] } };
    assert.deepEqual(title, { text: "nAUPRC" });
    assert.deepEqual(
      autorangeoptions.include.map((v) => v.toFixed(9)),
      [0.1 - 0.05 * 0.95, 0.1 + 0.05 * 0.95].map((v) => v.toFixed(9)),
      "value span 0 .. 0.9 + 0.05 (the error bar)",
    );
    const [s] = shapes(fig);
    assert.deepEqual([s.xref, s.x0, s.yref], ["x", 0.1, "y domain"], "a vertical line at the value");
  });

  it("rejects groups that do not have one value per category, repeated categories and log-axis zeros", () => {
    assert.throws(() => barChart({ ...spec, groups: [{ name: "g", values: [1] }] }), /group "g" values has 1 values, expected 2/);
    assert.throws(() => barChart({ ...spec, groups: [{ name: "g", values: [1, 2], errors: [1, 2, 3] }] }), /errors has 3 values/);
    assert.throws(() => barChart({ ...spec, categories: ["a", "a"] }), /category "a" appears twice/);
    assert.throws(() => barChart({ ...spec, groups: [{ name: "g", values: [1, 0] }], valueLog: true }), /cannot be drawn on a log axis/);
  });
});

describe("histogram and nullDistribution", () => {
  it("overlays groups on shared bins when there are several", () => {
    const fig = histogram({
      name: "h",
      caption: "c",
      groups: [
        { name: "a", values: [1, 2, 2] },
        { name: "b", values: [3, 3] },
      ],
      binWidth: 0.5,
      binStart: 0,
      xTitle: "value",
      norm: "probability",
    });
    assert.equal(fig.layout.barmode, "overlay");
    assert.deepEqual(
      fig.data.map((t) => [t.type, t.name, t.opacity, t.histnorm]),
      [
        ["histogram", "a", 0.6, "probability"],
        ["histogram", "b", 0.6, "probability"],
      ],
    );
    assert.deepEqual(fig.data[0].xbins, { size: 0.5, start: 0 });
    assert.deepEqual(axis(fig, "yaxis"), { title: { text: "share" } });
    const single = histogram({ name: "h", caption: "c", groups: [{ name: "a", values: [1] }], bins: 5 });
    assert.equal(single.data[0].opacity, undefined);
    assert.equal(single.data[0].nbinsx, 5);
    assert.deepEqual(axis(single, "yaxis"), { title: { text: "count" } });
  });

  it("rejects empty groups, values that are not finite and bad bins", () => {
    assert.throws(() => histogram({ name: "h", caption: "", groups: [{ name: "a", values: [] }] }), /group "a" has no values/);
    assert.throws(() => histogram({ name: "h", caption: "", groups: [{ name: "a", values: [1, NaN] }] }), /value 1 is not a finite number/);
    assert.throws(() => histogram({ name: "h", caption: "", groups: [{ name: "a", values: [1] }], binWidth: 0 }), /binWidth must be a positive number/);
    assert.throws(() => histogram({ name: "h", caption: "", groups: [{ name: "a", values: [1] }], bins: 2.5 }), /bins must be a positive integer/);
  });

  it("draws the null values as a grey histogram and each observed value as a labelled vertical line", () => {
    const values = Array.from({ length: 20 }, (_, k) => 0.05 + 0.01 * k);
    const fig = nullDistribution({
      name: "n",
      caption: "c",
      values,
      nullName: "random rewirings",
      xTitle: "nAUPRC",
      markers: [
        { name: "oracle", x: 0.912345 },
        { name: "learned", x: 0.3, label: "soft decoder", color: "black" },
      ],
    });
    assert.equal(fig.data.length, 1);
    assert.deepEqual([fig.data[0].type, fig.data[0].name], ["histogram", "random rewirings"]);
    assert.deepEqual(fig.data[0].x, values);
    const [o, l] = shapes(fig);
    assert.deepEqual([o.x0, o.x1, o.y0, o.y1, o.yref], [0.912345, 0.912345, 0, 1, "y domain"]);
    assert.equal((o.label as PlotlyObject).text, "oracle = 0.912");
    assert.deepEqual(o.line, { color: PALETTE[0], width: 2, dash: "solid" });
    assert.equal((l.label as PlotlyObject).text, "soft decoder");
    assert.equal((l.line as PlotlyObject).color, "black");
    const include = (axis(fig, "xaxis").autorangeoptions as PlotlyObject).include as number[];
    const span = 0.912345 - 0.05;
    assert.deepEqual(
      include.map((v) => v.toFixed(9)),
      [0.912345 - 0.05 * span, 0.912345 + 0.05 * span, 0.3 - 0.05 * span, 0.3 + 0.05 * span].map((v) => v.toFixed(9)),
      "the oracle line is not on the plot's edge",
    );
    assert.equal((axis(fig, "xaxis").title as PlotlyObject).text, "nAUPRC");
    assert.throws(() => nullDistribution({ name: "n", caption: "", values, markers: [{ name: "m", x: Infinity }] }), /not a finite number/);
    assert.throws(
      () =>
        nullDistribution({
          name: "n",
          caption: "",
          values,
          markers: [
            { name: "m", x: 1 },
            { name: "m", x: 2 },
          ],
        }),
      /marker "m" appears twice/,
    );
  });
});

describe("facets", () => {
  const line = (names: string[], xTitle?: string) =>
    lineChart({ name: "p", caption: "", x: [0, 1], xTitle, yTitle: "y", series: names.map((n) => ({ name: n, y: [0, 1] })) });

  it("places panels row by row with a title over each, one colour and one legend entry per name", () => {
    const fig = facets({
      name: "f",
      caption: "c",
      columns: 2,
      panels: [
        { title: "A", figure: line(["a", "b"], "step") },
        { title: "B", figure: line(["b", "c"]) },
        { title: "C", data: [{ type: "scatter", name: "a", x: [0], y: [1] }] },
      ],
    });
    // traces go to their panel's axes
    assert.deepEqual(
      fig.data.map((t) => [t.name, t.xaxis, t.yaxis]),
      [
        ["a", "x", "y"],
        ["b", "x", "y"],
        ["b", "x2", "y2"],
        ["c", "x2", "y2"],
        ["a", "x3", "y3"],
      ],
    );
    // colours by name, the legend once per name
    assert.deepEqual(
      fig.data.map((t) => (t.line as PlotlyObject).color),
      [PALETTE[0], PALETTE[1], PALETTE[1], PALETTE[2], PALETTE[0]],
    );
    assert.deepEqual(
      fig.data.map((t) => t.showlegend),
      [true, true, false, true, false],
    );
    assert.deepEqual(
      fig.data.map((t) => t.legendgroup),
      ["a", "b", "b", "c", "a"],
    );
    // domains: 2 columns with a gap of 0.08, 2 rows with a gap of 0.2
    const w = (1 - 0.08) / 2;
    const h = (1 - 0.2) / 2;
    assert.deepEqual(axis(fig, "xaxis").domain, [0, w]);
    assert.deepEqual(axis(fig, "xaxis2").domain, [w + 0.08, 1]);
    assert.deepEqual(axis(fig, "yaxis").domain, [1 - h, 1]);
    const d3 = axis(fig, "yaxis3").domain as number[];
    assert.ok(Math.abs(d3[0]) < 1e-12 && Math.abs(d3[1] - h) < 1e-12, `second row: ${d3}`);
    assert.equal(axis(fig, "xaxis2").anchor, "y2");
    assert.equal(axis(fig, "yaxis3").anchor, "x3");
    // the figure's own axis titles are kept
    assert.deepEqual(axis(fig, "xaxis").title, { text: "step" });
    assert.deepEqual(axis(fig, "yaxis2").title, { text: "y" });
    const titles = (fig.layout.annotations as PlotlyObject[]).map((a) => [a.text, a.x, a.y, a.yanchor]);
    assert.deepEqual(titles, [
      ["A", w / 2, 1, "bottom"],
      ["B", w + 0.08 + w / 2, 1, "bottom"],
      ["C", w / 2, 1 - (h + 0.2), "bottom"],
    ]);
    assert.equal(fig.layout.showlegend, true);
    // the legend sits 60 px under the plot area (height minus top and bottom margins), below the axis titles
    assert.deepEqual(fig.layout.legend, { orientation: "h", x: 0, y: -60 / (fig.height - 40 - 120), xanchor: "left", yanchor: "top" });
    assert.deepEqual(fig.layout.margin, { l: 70, r: 30, t: 40, b: 120 });
  });

  it("shares axes: one range, tick labels and titles on the outer panels only", () => {
    const data = (n: string) => [{ type: "scatter", name: n, x: [0, 1], y: [1, 2] }];
    const fig = facets({
      name: "f",
      caption: "c",
      columns: 2,
      shareX: true,
      shareY: true,
      xTitle: "epoch",
      yTitle: "AUROC",
      panels: [
        { title: "A", data: data("a") },
        { title: "B", data: data("a") },
        { title: "C", data: data("a") },
      ],
    });
    // panel B (top right) has no panel below it: it keeps its x tick labels and the x title
    assert.deepEqual(
      ["xaxis", "xaxis2", "xaxis3"].map((id) => [axis(fig, id).matches, axis(fig, id).showticklabels, (axis(fig, id).title as PlotlyObject).text]),
      [
        [undefined, false, ""],
        ["x", undefined, "epoch"],
        ["x", undefined, "epoch"],
      ],
    );
    assert.deepEqual(
      ["yaxis", "yaxis2", "yaxis3"].map((id) => [axis(fig, id).matches, axis(fig, id).showticklabels, (axis(fig, id).title as PlotlyObject).text]),
      [
        [undefined, undefined, "AUROC"],
        ["y", false, ""],
        ["y", undefined, "AUROC"],
      ],
    );
    assert.deepEqual(axis(fig, "xaxis").domain, [0, 0.48], "narrower gaps between shared axes");
    assert.deepEqual(
      ["yaxis", "yaxis2", "yaxis3"].map((id) => axis(fig, id).automargin),
      [true, undefined, true],
      "the left column's margin fits its tick labels and title",
    );
  });

  it("gives heatmap panels one colour scale and moves panel shapes onto the panel's axes", () => {
    const g = (z: number[][], zmax = 1) => heatmap({ name: "p", caption: "", z, rowLabels: ["a", "b"], colLabels: ["a", "b"], zmin: 0, zmax });
    const fig = facets({
      name: "f",
      caption: "c",
      colorTitle: "P(edge)",
      panels: [
        {
          title: "learned",
          figure: g([
            [0, 0.5],
            [0.2, 0],
          ]),
        },
        {
          title: "true",
          figure: g([
            [0, 1],
            [0, 0],
          ]),
        },
      ],
    });
    for (const t of fig.data) {
      assert.equal(t.coloraxis, "coloraxis");
      for (const key of ["colorscale", "reversescale", "zmin", "zmax", "showscale"]) assert.equal(t[key], undefined, key);
    }
    assert.deepEqual(fig.layout.coloraxis, { colorscale: "Blues", reversescale: true, cmin: 0, cmax: 1, colorbar: { title: { text: "P(edge)" } } });
    assert.equal(fig.layout.showlegend, false, "no legend for heatmaps only");
    assert.deepEqual((fig.data[1].z as unknown[][])[0], [null, 1], "the heatmap's own diagonal mask is kept");
    assert.equal(axis(fig, "yaxis2").autorange, "reversed", "the heatmap's axis settings are kept");
    assert.throws(
      () =>
        facets({
          name: "f",
          caption: "",
          panels: [
            {
              title: "a",
              figure: g([
                [0, 1],
                [1, 0],
              ]),
            },
            {
              title: "b",
              figure: g(
                [
                  [0, 2],
                  [1, 0],
                ],
                2,
              ),
            },
          ],
        }),
      /share one colour scale: panel 1 \("b"\)/,
    );

    const nulls = nullDistribution({ name: "p", caption: "", values: [0.1, 0.2], markers: [{ name: "oracle", x: 0.9 }] });
    const two = facets({
      name: "f",
      caption: "c",
      panels: [
        { title: "a", figure: nulls },
        { title: "b", figure: nulls, lines: [{ axis: "y", value: 1 }] },
      ],
    });
    assert.deepEqual(
      shapes(two).map((s) => [s.xref, s.yref]),
      [
        ["x", "y domain"],
        ["x2", "y2 domain"],
        ["x2 domain", "y2"],
      ],
    );
    assert.equal(two.layout.barmode, "overlay", "bar settings of the panels' figures are kept");
    assert.deepEqual(
      two.data.map((t) => [t.showlegend, (t.marker as PlotlyObject).color]),
      [
        [true, "#b7bec8"],
        [false, "#b7bec8"],
      ],
      "a trace's own colour stays",
    );
  });

  it("rejects panels without exactly one of data and figure, second y axes, bad columns and clashing bar modes", () => {
    assert.throws(() => facets({ name: "f", caption: "", panels: [] }), /at least one panel/);
    assert.throws(() => facets({ name: "f", caption: "", panels: [{ title: "a" }] }), /panel 0 \("a"\) needs exactly one of data and figure/);
    assert.throws(() => facets({ name: "f", caption: "", panels: [{ title: "a", data: [], figure: line(["a"]) }] }), /exactly one/);
    const twoAxes = lineChart({
      name: "p",
      caption: "",
      x: [0],
      series: [
        { name: "a", y: [1] },
        { name: "b", y: [1], yaxis: "y2" },
      ],
    });
    assert.throws(() => facets({ name: "f", caption: "", panels: [{ title: "a", figure: twoAxes }] }), /second y axis/);
    assert.throws(() => facets({ name: "f", caption: "", columns: 0, panels: [{ title: "a", data: [] }] }), /columns must be a positive integer/);
    const bars = barChart({ name: "p", caption: "", categories: ["a"], groups: [{ name: "g", values: [1] }] });
    const hist = histogram({ name: "p", caption: "", groups: [{ name: "g", values: [1] }] });
    assert.throws(
      () =>
        facets({
          name: "f",
          caption: "",
          panels: [
            { title: "a", figure: bars },
            { title: "b", figure: hist },
          ],
        }),
      /disagree on the figure-wide barmode/,
    );
  });
});

describe("heatmapGrid", () => {
  const labels = ["a", "b", "c"];
  const z = [
    [0, 1, 0],
    [0, 0, 1],
    [0, 0, 0],
  ];

  it("lays out heatmaps with one colour scale and shared axes", () => {
    const fig = heatmapGrid({
      name: "g",
      caption: "c",
      labels,
      columns: 2,
      zmin: 0,
      zmax: 1,
      rowTitle: "sender j",
      colTitle: "receiver i",
      panels: [
        { title: "learned", z },
        { title: "true", z },
        { title: "other", z },
      ],
    });
    assert.equal(fig.data.length, 3);
    assert.ok(fig.data.every((t) => t.type === "heatmap" && t.coloraxis === "coloraxis"));
    assert.deepEqual(fig.layout.coloraxis, { colorscale: "Blues", reversescale: true, cmin: 0, cmax: 1 });
    assert.deepEqual((fig.data[0].z as unknown[][])[0], [null, 1, 0], "diagonal blanked");
    assert.equal(axis(fig, "yaxis2").showticklabels, false);
    assert.equal(axis(fig, "xaxis").showticklabels, false, "a panel below: no x tick labels");
    assert.deepEqual((axis(fig, "yaxis").title as PlotlyObject).text, "sender j");
    assert.deepEqual((axis(fig, "xaxis3").title as PlotlyObject).text, "receiver i");
    assert.deepEqual(
      (fig.layout.annotations as PlotlyObject[]).map((a) => a.text),
      ["learned", "true", "other"],
    );
    const free = heatmapGrid({
      name: "g",
      caption: "c",
      labels,
      shareAxes: false,
      maskDiagonal: false,
      panels: [
        { title: "a", z },
        { title: "b", z },
      ],
    });
    assert.equal(axis(free, "yaxis2").showticklabels, undefined);
    assert.deepEqual((free.data[0].z as unknown[][])[0], [0, 1, 0]);
    assert.equal(free.layout.coloraxis && (free.layout.coloraxis as PlotlyObject).cmin, undefined, "no zmin: the scale spans all panels");
  });

  it("names a graph's axes (rows send, columns receive) and makes room for long node names", () => {
    const short = heatmap({ name: "h", caption: "", z, rowLabels: labels, colLabels: labels });
    assert.equal((axis(short, "yaxis").title as PlotlyObject).text, "sender j (from)");
    assert.equal((axis(short, "xaxis").title as PlotlyObject).text, "receiver i (to)");
    assert.equal(axis(short, "xaxis").automargin, true);
    assert.equal(axis(short, "yaxis").automargin, true);
    assert.equal(axis(short, "xaxis").tickangle, undefined, "short labels stay level");
    const long = ["Channel0_impression", "Channel1_impression", "conversions"];
    const named = heatmap({ name: "h", caption: "", z, rowLabels: long, colLabels: long });
    assert.equal(axis(named, "xaxis").tickangle, -40, "long labels are slanted");
    assert.ok(named.width > short.width && named.height > short.height, "and the figure grows to hold them");
    const notGraph = heatmap({ name: "h", caption: "", z: [[1, 2]], rowLabels: ["r"], colLabels: ["c1", "c2"] });
    assert.equal((axis(notGraph, "xaxis").title as PlotlyObject).text, "", "a matrix that is not a graph gets no graph titles");
    const grid = heatmapGrid({
      name: "g",
      caption: "",
      labels: long,
      columns: 2,
      panels: [
        { title: "a", z },
        { title: "b", z },
        { title: "c", z },
      ],
    });
    assert.equal((axis(grid, "yaxis").title as PlotlyObject).text, "sender j (from)");
    assert.equal(axis(grid, "xaxis2").automargin, true, "a bottom panel's labels push the margin");
    const level = heatmapGrid({
      name: "g",
      caption: "",
      labels,
      columns: 2,
      panels: [
        { title: "a", z },
        { title: "b", z },
        { title: "c", z },
      ],
    });
    assert.ok(grid.height > level.height, "slanted labels under a short last row get room between the rows");
  });

  it("rejects matrices that do not match the labels", () => {
    assert.throws(
      () =>
        heatmapGrid({
          name: "g",
          caption: "",
          labels,
          panels: [
            {
              title: "x",
              z: [
                [0, 1],
                [1, 0],
              ],
            },
          ],
        }),
      /panel 0 \("x"\) has 2 rows but 3 row labels/,
    );
    assert.throws(
      () =>
        heatmapGrid({
          name: "g",
          caption: "",
          labels,
          panels: [
            {
              title: "x",
              z: [
                [0, 1, 0],
                [1, 0],
                [0, 0, 0],
              ],
            },
          ],
        }),
      /row 1 has 2 values but 3 column labels/,
    );
    assert.throws(() => heatmapGrid({ name: "g", caption: "", panels: [{ title: "x", z }] }), /needs labels/);
    assert.throws(() => heatmap({ name: "h", caption: "", z: [[1]], rowLabels: ["a", "b"], colLabels: ["a"] }), /z has 1 rows but 2 row labels/);
  });
});
