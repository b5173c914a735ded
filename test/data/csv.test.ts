import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { formatFloat32, parseCsvTable, readGraphCsv, readPanelCsv, readSidecar, writeGraphCsv, writePanelCsv } from "../../lib/data/csv";
import { DataError } from "../../lib/data/errors";
import type { Panel } from "../../lib/data/panel";
import { exampleDataDir } from "../../lib/data/paths";
import { assertDataError, assertSamePanel, tempDir, writeText } from "./helpers";

const ROLES = { target: "sales", channels: ["tv", "search"], intermediates: ["visits"] };
const NODES = ["tv", "search", "visits", "sales"];

/** A valid long CSV: units a and b, times 0..3. */
function goodRows(): string[] {
  const rows = ["unit,time,tv,search,visits,sales,ctx_size"];
  for (const u of ["a", "b"]) for (let t = 0; t < 4; t++) rows.push(`${u},${t},${t + 1},${2 * t},${10 + t},${100 + t},${u === "a" ? 1.5 : 2}`);
  return rows;
}

const csv = (rows: string[]) => rows.join("\n") + "\n";

describe("long CSV panel reader", () => {
  const dir = tempDir();

  it("reads a valid panel with roles from the caller", () => {
    const file = writeText(dir, "good.csv", csv(goodRows()));
    const p = readPanelCsv(file, { roles: ROLES });
    assert.equal(p.units, 2);
    assert.equal(p.steps, 4);
    assert.equal(p.nodes, 4);
    assert.deepEqual(p.nodeNames, NODES);
    assert.deepEqual(p.roles, ["channel", "channel", "intermediate", "target"]);
    assert.deepEqual(p.unitIds, ["a", "b"]);
    assert.equal(p.timeLabels, undefined, "a 0..T-1 time axis is the default and is not stored");
    assert.deepEqual(p.context, { names: ["size"], values: Float32Array.from([1.5, 2]) });
    // values: [units, steps, nodes]
    assert.equal(p.values[(1 * 4 + 2) * 4 + 3], 102);
    assert.equal(p.provenance.generator, "csv");
    assert.equal(p.provenance.source, file);
  });

  it("reads roles from the JSON sidecar, sorts time within units and keeps units in first-appearance order", () => {
    const rows = goodRows();
    const shuffled = [rows[0], rows[6], rows[2], rows[8], rows[1], rows[4], rows[3], rows[7], rows[5]];
    const file = writeText(dir, "shuffled.csv", csv(shuffled));
    writeText(dir, "shuffled.csv.roles.json", JSON.stringify(ROLES));
    const p = readPanelCsv(file);
    assert.deepEqual(p.unitIds, ["b", "a"]);
    assert.deepEqual(
      Array.from({ length: 4 }, (_, t) => p.values[(0 * 4 + t) * 4]),
      [1, 2, 3, 4],
    );
  });

  it("reads ISO dates as the time axis (weekly step inferred)", () => {
    const rows = ["unit,time,tv,search,visits,sales"];
    for (const u of ["a", "b"]) for (const d of ["2024-01-01", "2024-01-08", "2024-01-15"]) rows.push(`${u},${d},1,2,3,4`);
    const file = writeText(dir, "dates.csv", csv(rows));
    const p = readPanelCsv(file, { roles: ROLES });
    assert.deepEqual(p.timeLabels, ["2024-01-01", "2024-01-08", "2024-01-15"]);
  });

  it("accepts a BOM, CRLF line ends, quoted cells and trailing blank lines", () => {
    const text = '\ufeffunit,time,tv,search,visits,sales\r\n"x,1",0,1,2,3,4\r\n"x,1",1,1,2,3,4\r\n\r\n\r\n';
    const p = readPanelCsv(writeText(dir, "bom.csv", text), { roles: ROLES });
    assert.deepEqual(p.unitIds, ["x,1"]);
    assert.equal(p.steps, 2);
  });

  // ---- bad input: every error names the file, the column and the row ----

  it("missing column: suggests the closest header name", () => {
    const rows = goodRows();
    rows[0] = rows[0].replace("search", "serach");
    const file = writeText(dir, "misspelt.csv", csv(rows));
    const err = assertDataError(() => readPanelCsv(file, { roles: ROLES }), { file, column: "search", line: 1, match: /did you mean "serach"/ });
    assert.match(err.message, /line 1 \(header\)/);
  });

  it("missing unit column: suggests the closest header name", () => {
    const rows = goodRows();
    rows[0] = rows[0].replace("unit", "unti");
    const file = writeText(dir, "nounit.csv", csv(rows));
    assertDataError(() => readPanelCsv(file, { roles: ROLES }), { file, column: "unit", line: 1, match: /did you mean "unti"/ });
  });

  it("an unexpected column is an error unless listed in ignoreColumns", () => {
    const rows = goodRows().map((r, k) => r + (k === 0 ? ",notes" : ",hello"));
    const file = writeText(dir, "extra.csv", csv(rows));
    assertDataError(() => readPanelCsv(file, { roles: ROLES }), { file, column: "notes", line: 1, match: /ignoreColumns/ });
    const p = readPanelCsv(file, { roles: ROLES, ignoreColumns: ["notes"] });
    assert.equal(p.nodes, 4);
  });

  it("non-numeric cell", () => {
    const rows = goodRows();
    rows[3] = "a,2,3,4,oops,102,1.5";
    const file = writeText(dir, "nonnumeric.csv", csv(rows));
    assertDataError(() => readPanelCsv(file, { roles: ROLES }), { file, column: "visits", row: 3, line: 4, match: /"oops" is not a number/ });
  });

  it("empty cell", () => {
    const rows = goodRows();
    rows[2] = "a,1,2,2,,101,1.5";
    const file = writeText(dir, "empty.csv", csv(rows));
    assertDataError(() => readPanelCsv(file, { roles: ROLES }), { file, column: "visits", row: 2, line: 3, match: /empty cell/ });
  });

  it("NaN value", () => {
    const rows = goodRows();
    rows[5] = "b,0,1,0,10,NaN,2";
    const file = writeText(dir, "nan.csv", csv(rows));
    assertDataError(() => readPanelCsv(file, { roles: ROLES }), { file, column: "sales", row: 5, line: 6, match: /NaN or infinite/ });
  });

  it("infinite value (spelled out and by overflow)", () => {
    const rows = goodRows();
    rows[6] = "b,1,-Infinity,2,11,101,2";
    const file = writeText(dir, "inf.csv", csv(rows));
    assertDataError(() => readPanelCsv(file, { roles: ROLES, nonNegativeChannels: false }), { file, column: "tv", row: 6, line: 7, match: /NaN or infinite/ });
    rows[6] = "b,1,2,1e400,11,101,2";
    const file2 = writeText(dir, "overflow.csv", csv(rows));
    assertDataError(() => readPanelCsv(file2, { roles: ROLES }), { file: file2, column: "search", row: 6, line: 7, match: /infinite/ });
    rows[6] = "b,1,2,1e39,11,101,2";
    const file3 = writeText(dir, "f32range.csv", csv(rows));
    assertDataError(() => readPanelCsv(file3, { roles: ROLES }), { file: file3, column: "search", row: 6, line: 7, match: /float32 range/ });
  });

  it("negative spend in a channel column", () => {
    const rows = goodRows();
    rows[7] = "b,2,3,-4,12,102,2";
    const file = writeText(dir, "negative.csv", csv(rows));
    assertDataError(() => readPanelCsv(file, { roles: ROLES }), { file, column: "search", row: 7, line: 8, match: /negative spend -4/ });
    // Negative values in non-channel columns are fine; negative channels too when allowed.
    assert.equal(readPanelCsv(file, { roles: ROLES, nonNegativeChannels: false }).units, 2);
  });

  it("duplicate (unit, time)", () => {
    const rows = goodRows();
    rows[4] = "a,2,9,9,9,9,1.5"; // row 4 repeats time 2 of unit a (row 3); time 3 is then missing
    const file = writeText(dir, "duplicate.csv", csv(rows));
    assertDataError(() => readPanelCsv(file, { roles: ROLES }), {
      file,
      column: "time",
      row: 4,
      line: 5,
      match: /duplicate \(unit, time\) = \("a", 2\): also on row 3/,
    });
  });

  it("gap in time within a unit", () => {
    const rows = goodRows();
    rows.splice(7, 1); // drop b,2
    const file = writeText(dir, "gap.csv", csv(rows));
    assertDataError(() => readPanelCsv(file, { roles: ROLES }), {
      file,
      column: "time",
      row: 7,
      line: 8,
      match: /gap in time for unit "b": 1 missing step\(s\) between 1 and 3/,
    });
  });

  it("irregular time step", () => {
    const rows = ["unit,time,tv,search,visits,sales", "a,0,1,1,1,1", "a,2,1,1,1,1", "a,4,1,1,1,1", "a,5,1,1,1,1", "a,7,1,1,1,1"];
    const file = writeText(dir, "irregular.csv", csv(rows));
    assertDataError(() => readPanelCsv(file, { roles: ROLES }), { file, column: "time", row: 4, line: 5, match: /irregular time/ });
  });

  it("a unit too short for the lag window plus horizon", () => {
    const file = writeText(dir, "short.csv", csv(goodRows()));
    assertDataError(() => readPanelCsv(file, { roles: ROLES, minSteps: 3 + 7 }), {
      file,
      column: "time",
      row: 1,
      line: 2,
      match: /unit "a" has 4 steps, fewer than the required minimum 10 \(lag window \+ horizon\)/,
    });
  });

  it("units on different time ranges: an error, or dropped explicitly and recorded", () => {
    const rows = goodRows();
    rows.push("c,2,1,1,1,1,3", "c,3,1,1,1,1,3");
    const file = writeText(dir, "incomplete.csv", csv(rows));
    assertDataError(() => readPanelCsv(file, { roles: ROLES }), { file, column: "time", row: 9, line: 10, match: /unit "c" covers 2..3/ });
    const p = readPanelCsv(file, { roles: ROLES, incompleteUnits: "drop" });
    assert.deepEqual(p.unitIds, ["a", "b"]);
    const args = p.provenance.params as { droppedUnits: unknown[] };
    assert.deepEqual(args.droppedUnits, [{ unit: "c", from: "2", to: "3", steps: 2 }]);
  });

  it("context not constant within a unit", () => {
    const rows = goodRows();
    rows[3] = "a,2,3,4,12,102,1.75";
    const file = writeText(dir, "context.csv", csv(rows));
    assertDataError(() => readPanelCsv(file, { roles: ROLES }), { file, column: "ctx_size", row: 3, line: 4, match: /constant within a unit/ });
  });

  it("a row with the wrong number of cells, and a blank line inside the file", () => {
    const rows = goodRows();
    rows[2] = "a,1,2,2,11,101";
    const file = writeText(dir, "ragged.csv", csv(rows));
    assertDataError(() => readPanelCsv(file, { roles: ROLES }), { file, row: 2, line: 3, match: /6 cells, but the header has 7 columns/ });
    const rows2 = goodRows();
    rows2.splice(3, 0, "");
    const file2 = writeText(dir, "blank.csv", csv(rows2));
    assertDataError(() => readPanelCsv(file2, { roles: ROLES }), { file: file2, row: 3, line: 4, match: /blank line/ });
  });

  it("line numbers follow multi-line quoted cells", () => {
    const text = 'unit,time,tv,search,visits,sales\n"multi\nline",0,1,1,1,1\n"multi\nline",1,x,1,1,1\n';
    const file = writeText(dir, "multiline.csv", text);
    assertDataError(() => readPanelCsv(file, { roles: ROLES }), { file, column: "tv", row: 2, line: 4 });
  });

  it("no roles anywhere, and a bad sidecar", () => {
    const file = writeText(dir, "noroles.csv", csv(goodRows()));
    assertDataError(() => readPanelCsv(file), { file, match: /no roles/ });
    const file2 = writeText(dir, "badroles.csv", csv(goodRows()));
    const sc = writeText(dir, "badroles.csv.roles.json", JSON.stringify({ target: "sales", chanels: ["tv"] }));
    assertDataError(() => readPanelCsv(file2), { file: sc, column: "chanels", match: /did you mean "channels"/ });
    const sc2 = writeText(dir, "badroles2.json", JSON.stringify({ target: "sales", channels: ["tv", "sales"] }));
    assertDataError(() => readSidecar(sc2), { file: sc2, column: "channels[1]", match: /two roles/ });
  });

  it("time column with a non-integer, non-date value", () => {
    const rows = goodRows();
    rows[2] = "a,1.5,2,2,11,101,1.5";
    const file = writeText(dir, "badtime.csv", csv(rows));
    assertDataError(() => readPanelCsv(file, { roles: ROLES }), { file, column: "time", row: 2, line: 3, match: /not an integer time step/ });
  });

  it("the table is parsed by arquero with every cell a string", () => {
    const t = parseCsvTable("a,b\n01,x\n", "mem.csv");
    assert.deepEqual(t.table.objects(), [{ a: "01", b: "x" }]);
    assert.deepEqual(t.lines, [2]);
  });
});

describe("edge-list CSV graph reader", () => {
  const dir = tempDir();

  it("reads a single graph", () => {
    const file = writeText(dir, "g.csv", "source,target\ntv,visits\nsearch,visits\nvisits,sales\n");
    const g = readGraphCsv(file, NODES);
    assert.equal(g.graphs.length, 1);
    assert.equal(g.graphs[0][0][2], 1);
    assert.equal(g.graphs[0][2][3], 1);
    assert.equal(
      g.graphs[0].flat().reduce((a, b) => a + b),
      3,
    );
  });

  it("reads several graphs with a graph column", () => {
    const file = writeText(dir, "multi.csv", "graph,source,target\nA,tv,sales\nB,search,sales\nB,tv,visits\n");
    const g = readGraphCsv(file, NODES);
    assert.deepEqual(g.ids, ["A", "B"]);
    assert.equal(g.graphs[1][1][3], 1);
  });

  it("a graph naming an unknown node", () => {
    const file = writeText(dir, "unknown.csv", "source,target\ntv,visits\nsearch,sale\n");
    assertDataError(() => readGraphCsv(file, NODES), { file, column: "target", row: 2, line: 3, match: /unknown node "sale"; did you mean "sales"/ });
  });

  it("a self-loop", () => {
    const file = writeText(dir, "self.csv", "source,target\ntv,visits\nvisits,visits\n");
    assertDataError(() => readGraphCsv(file, NODES), { file, column: "target", row: 2, line: 3, match: /self-loop visits -> visits/ });
  });

  it("a cycle where a DAG is required (and allowed when not required)", () => {
    const file = writeText(dir, "cycle.csv", "source,target\ntv,visits\nvisits,sales\nsales,tv\n");
    assertDataError(() => readGraphCsv(file, NODES), { file, column: "target", row: 3, line: 4, match: /closes a cycle sales -> tv -> visits -> sales/ });
    const g = readGraphCsv(file, NODES, { requireDag: false });
    assert.equal(g.graphs[0][3][0], 1);
  });

  it("a duplicate edge and a misspelt header", () => {
    const file = writeText(dir, "dup.csv", "source,target\ntv,visits\ntv,visits\n");
    assertDataError(() => readGraphCsv(file, NODES), { file, column: "target", row: 2, line: 3, match: /duplicate edge/ });
    const file2 = writeText(dir, "hdr.csv", "source,traget\ntv,visits\n");
    assertDataError(() => readGraphCsv(file2, NODES), { file: file2, column: "target", line: 1, match: /did you mean "traget"/ });
  });

  it("a panel whose sidecar points to a cyclic graph fails on read", () => {
    const file = writeText(dir, "withgraph.csv", csv(goodRows()));
    const edges = writeText(dir, "withgraph.edges.csv", "source,target\nvisits,sales\nsales,visits\n");
    writeText(dir, "withgraph.csv.roles.json", JSON.stringify({ ...ROLES, truth: { edges: "withgraph.edges.csv" } }));
    assertDataError(() => readPanelCsv(file), { file: edges, column: "target", row: 2, line: 3, match: /cycle/ });
  });
});

describe("CSV writers", () => {
  const dir = tempDir();

  it("formatFloat32 writes the shortest decimal that reads back to the same float32", () => {
    for (const x of [0, -0, 1, -1.5, 0.1, 1 / 3, 123456.789, 1e-30, 3.4e38, -2.5e-7, 16777217]) {
      const s = formatFloat32(x);
      assert.ok(Object.is(Math.fround(Number(s)), Math.fround(x)), `${x} -> ${s}`);
      assert.ok(s.replace(/^-/, "").replace(/e.*$/, "").replace(".", "").length <= 10, `${s} is short`);
    }
  });

  it("write-then-read returns the same panel (multi-graph, context, time labels, odd unit ids)", () => {
    const g0 = [
      [0, 0, 1, 1],
      [0, 0, 1, 0],
      [0, 0, 0, 1],
      [0, 0, 0, 0],
    ];
    const g1 = [
      [0, 0, 0, 1],
      [0, 0, 1, 0],
      [0, 0, 0, 1],
      [0, 0, 0, 0],
    ];
    const g2 = [
      [0, 0, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 0, 0],
    ];
    const R = 3;
    const T = 5;
    const values = Float32Array.from({ length: R * T * 4 }, (_, k) => (k % 4 < 2 ? k * 1.37 : Math.sin(k) * 1e4 + 1 / 3));
    const panel: Panel = {
      values,
      units: R,
      steps: T,
      nodes: 4,
      nodeNames: NODES,
      roles: ["channel", "channel", "intermediate", "target"],
      unitIds: ["plain", 'with "quotes", comma', "  spaced "],
      context: { values: Float32Array.from([0.1, 2, 0.3, 4, 0.5, 6]), names: ["x", "y"] },
      truth: { graphs: [g0, g1, g2], graphOfUnit: [1, 0, 2] },
      timeLabels: ["2023-12-25", "2024-01-01", "2024-01-08", "2024-01-15", "2024-01-22"],
      provenance: { generator: "handmade", params: { a: 1, nested: { b: [1, 2] } }, seed: 7 },
    };
    const file = join(dir, "rt.csv");
    const w = writePanelCsv(panel, file);
    assert.equal(w.edges, join(dir, "rt.edges.csv"));
    const back = readPanelCsv(file);
    assertSamePanel(back, panel);
    assert.equal(back.provenance.generator, "handmade");
    assert.deepEqual(back.provenance.params, panel.provenance.params);
    assert.equal(back.provenance.seed, 7);
    assert.equal(back.provenance.source, file);
    assert.equal(back.provenance.history?.at(-1)?.op, "readPanelCsv");
    const sidecar = JSON.parse(readFileSync(w.sidecar, "utf8"));
    assert.deepEqual(sidecar.truth.graphs, ["0", "1", "2"], "an edgeless graph survives through the declared ids");
  });

  it("writeGraphCsv then readGraphCsv returns the graph", () => {
    const g = [
      [0, 1, 1, 0],
      [0, 0, 0, 1],
      [0, 0, 0, 1],
      [0, 0, 0, 0],
    ];
    const file = writeGraphCsv(g, NODES, join(dir, "one.edges.csv"));
    assert.equal(readFileSync(file, "utf8").split("\n")[0], "source,target");
    assert.deepEqual(readGraphCsv(file, NODES).graphs, [g]);
  });

  it("errors are DataErrors with fields for a one-line CLI message", () => {
    const file = writeText(dir, "cli.csv", "unit,time,tv,search,visits,sales\na,0,1,x,1,1\n");
    try {
      readPanelCsv(file, { roles: ROLES });
      assert.fail("should throw");
    } catch (e) {
      assert.ok(e instanceof DataError);
      assert.equal(e.column, "search");
      assert.equal(e.row, 1);
      assert.equal(e.line, 2);
      assert.ok(!e.message.includes("\n"));
    }
  });
});

describe("example data in data/example", () => {
  it("loads through the bring-your-own-data path", () => {
    const p = readPanelCsv(join(exampleDataDir(), "panel.csv"));
    assert.deepEqual([p.units, p.steps, p.nodes], [4, 60, 8]);
    assert.equal(p.timeLabels![0], "2024-01-01");
    assert.equal(p.truth!.graphs.length, 3);
    assert.equal(p.provenance.generator, "sparse-target");
  });
});
