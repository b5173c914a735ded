import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, before, describe, it } from "node:test";
import { edgeCount } from "../../lib/graph";
import { causalMMMSimDir, decodeEdgeRow, edgeIndex, loadCausalMMMSim } from "../../lib/data/causalmmm";
import { encodeNpy, writeNpy } from "../../lib/data/npy";
import { at, distinctGraphs, distinctNodeSeries, distinctSeries } from "../../lib/data/panel";
import { dataRoot } from "../../lib/data/paths";
import type { Panel } from "../../lib/data/panel";
import { REPO_ROOT } from "../../lib/study";
import { readPanelCsv, writePanelCsv } from "../../lib/data/csv";
import { assertDataError, assertSamePanel, tempDir } from "./helpers";

/** A small fake copy of the shipped layout: R units, 8 nodes, T steps, edges for two graphs. */
function fakeSim(dir: string, R = 4, T = 6): void {
  mkdirSync(dir, { recursive: true });
  const N = 8;
  const data = Array.from({ length: R * N * T }, (_, k) => k / 10);
  writeNpy(join(dir, "shuffled_data.npy"), data, [R, N, T]);
  writeNpy(
    join(dir, "shuffled_context.npy"),
    Array.from({ length: R * 2 }, (_, k) => k / 8),
    [R, 2],
  );
  const edges: number[] = [];
  for (let u = 0; u < R; u++) {
    const row = new Array<number>(N * (N - 1)).fill(0);
    row[edgeIndex(0, 7, N)] = 1; // ch0 -> gmv
    if (u % 2) row[edgeIndex(5, 7, N)] = 1; // mid5 -> gmv
    edges.push(...row);
  }
  writeNpy(join(dir, "shuffled_edges.npy"), edges, [R, N * (N - 1)]);
}

// The shipped files are placed in data/causalmmm-sim/ by `npm run data`, which `npm test` runs
// first; when they are missing, the loader's error names the file and that command.
describe("CausalMMM shipped data", () => {
  let p: Panel;
  before(() => {
    p = loadCausalMMMSim();
  });

  it("is read from data/causalmmm-sim/ in the repository unless GRAPH_MMM_DATA_DIR names another data folder", () => {
    assert.equal(p.provenance.source, causalMMMSimDir());
    const saved = process.env.GRAPH_MMM_DATA_DIR;
    delete process.env.GRAPH_MMM_DATA_DIR;
    try {
      assert.equal(causalMMMSimDir(), join(REPO_ROOT, "data", "causalmmm-sim"));
    } finally {
      if (saved !== undefined) process.env.GRAPH_MMM_DATA_DIR = saved;
    }
  });

  it("has shape [300 units, 100 steps, 8 nodes] with context [300, 2]", () => {
    assert.equal(p.units, 300);
    assert.equal(p.steps, 100);
    assert.equal(p.nodes, 8);
    assert.equal(p.values.length, 300 * 100 * 8);
    assert.deepEqual(p.roles, ["channel", "channel", "channel", "channel", "channel", "intermediate", "intermediate", "target"]);
    assert.equal(p.context!.values.length, 600);
    assert.equal(p.context!.names.length, 2);
    assert.equal(p.provenance.generator, "causalmmm-sim");
  });

  it("has exactly 3 distinct graphs with 10, 13 and 14 edges, 100 units each, all DAGs with no edge out of the target", () => {
    const g = p.truth!;
    assert.equal(g.graphs.length, 3);
    assert.deepEqual(
      g.graphs.map(edgeCount).sort((a, b) => a - b),
      [10, 13, 14],
    );
    assert.deepEqual(distinctGraphs(p).sizes, [100, 100, 100]);
    for (const G of g.graphs) {
      assert.ok(
        G[7].every((v) => v === 0),
        "no edge out of the target",
      );
      for (let i = 0; i < 5; i++)
        assert.ok(
          G.every((row) => row[i] === 0),
          "channels are roots",
        );
    }
  });

  it("is degenerate: only 4 distinct series among the 300 units", () => {
    assert.equal(distinctSeries(p).count, 4);
  });

  it("channels: one spend series shared by 299 of 300 units; contexts all distinct but without effect on the series", () => {
    for (let i = 0; i < 5; i++)
      assert.deepEqual(
        [...distinctNodeSeries(p, i).sizes].sort((a, b) => b - a),
        [299, 1],
      );
    const k = p.context!.names.length;
    const key = (u: number) => Array.from(p.context!.values.subarray(u * k, (u + 1) * k)).join(",");
    assert.equal(new Set(Array.from({ length: p.units }, (_, u) => key(u))).size, 300);
    const s = distinctSeries(p);
    const big = s.sizes.indexOf(100);
    const units = s.groupOfUnit.flatMap((g, u) => (g === big ? [u] : []));
    assert.equal(new Set(units.map(key)).size, 100, "100 contexts, one series");
  });

  it("transposes units x nodes x steps to units x steps x nodes (values cross-checked with NumPy)", () => {
    // NumPy: data[1, 7, 2], data[299, 0, 99], data[150, 5, 40], context[299, 1].
    assert.equal(p.values[at(p, 1, 2, 7)], Math.fround(0.13983342245444721));
    assert.equal(p.values[at(p, 299, 99, 0)], Math.fround(0.011131231049392641));
    assert.equal(p.values[at(p, 150, 40, 5)], Math.fround(0.3720127301540471));
    assert.equal(p.context!.values[299 * 2 + 1], Math.fround(0.36204003092203463));
  });
});

describe("CausalMMM shipped data through CSV", () => {
  it("write-then-read returns the same multi-graph panel (standardised data: negative channels allowed)", () => {
    const p = loadCausalMMMSim();
    const file = join(tempDir(), "causalmmm.csv");
    writePanelCsv(p, file);
    assertSamePanel(readPanelCsv(file, { nonNegativeChannels: false }), p);
  });
});

describe("CausalMMM loader on fake files", () => {
  const saved = process.env.GRAPH_MMM_DATA_DIR;
  afterEach(() => {
    if (saved === undefined) delete process.env.GRAPH_MMM_DATA_DIR;
    else process.env.GRAPH_MMM_DATA_DIR = saved;
  });

  it("decodes the edge encoding k = i*7 + (j if j < i else j-1) as j -> i", () => {
    assert.equal(edgeIndex(0, 1, 8), 7);
    assert.equal(edgeIndex(1, 0, 8), 0);
    assert.equal(edgeIndex(6, 7, 8), 55);
    assert.equal(edgeIndex(7, 6, 8), 6 * 7 + 6);
    const row = new Array<number>(56).fill(0);
    row[3 * 7 + 5 - 1] = 1; // j = 5 -> i = 3
    const g = decodeEdgeRow(row, 8);
    assert.equal(g[5][3], 1);
    assert.equal(edgeCount(g), 1);
  });

  it("reads causalmmm-sim/ of the data folder named by GRAPH_MMM_DATA_DIR, transposing to [units, steps, nodes]", () => {
    const root = tempDir();
    fakeSim(join(root, "causalmmm-sim"));
    process.env.GRAPH_MMM_DATA_DIR = root;
    assert.equal(dataRoot(), root);
    const p = loadCausalMMMSim();
    assert.equal(p.provenance.source, join(root, "causalmmm-sim"));
    assert.equal(p.units, 4);
    assert.equal(p.steps, 6);
    // data[u, i, t] = ((u*8 + i)*6 + t) / 10
    for (const [u, i, t] of [
      [0, 0, 0],
      [1, 7, 2],
      [3, 5, 5],
    ])
      assert.equal(p.values[at(p, u, t, i)], Math.fround(((u * 8 + i) * 6 + t) / 10));
    assert.equal(p.truth!.graphs.length, 2);
    assert.deepEqual(p.truth!.graphOfUnit, [0, 1, 0, 1]);
    assert.equal(p.truth!.graphs[1][5][7], 1);
    assert.deepEqual(Array.from(p.context!.values.subarray(2, 4)), [Math.fround(2 / 8), Math.fround(3 / 8)]);
  });

  it("an explicit dir wins over the environment", () => {
    const dir = join(tempDir(), "sim");
    fakeSim(dir, 2, 3);
    process.env.GRAPH_MMM_DATA_DIR = "/nonexistent";
    assert.equal(loadCausalMMMSim({ dir }).units, 2);
  });

  it("a missing file, a truncated file and inconsistent files are DataErrors naming the file", () => {
    const dir = join(tempDir(), "bad");
    mkdirSync(dir);
    assertDataError(() => loadCausalMMMSim({ dir }), { file: join(dir, "shuffled_data.npy"), match: /missing \(run `npm run data`/ });
    fakeSim(dir, 4, 6);
    const full = encodeNpy(
      Array.from({ length: 4 * 8 * 6 }, () => 0),
      [4, 8, 6],
    );
    const data = join(dir, "shuffled_data.npy");
    writeFileSync(data, full.subarray(0, full.length - 16));
    assertDataError(() => loadCausalMMMSim({ dir }), { file: data, column: "data", match: /truncated/ });
    fakeSim(dir, 4, 6);
    writeNpy(join(dir, "shuffled_context.npy"), [0, 0, 0, 0, 0, 0], [3, 2]);
    assertDataError(() => loadCausalMMMSim({ dir }), { file: join(dir, "shuffled_context.npy"), column: "shape", match: /3 units/ });
    fakeSim(dir, 4, 6);
    const e = Array.from({ length: 4 * 56 }, () => 0);
    e[60] = 0.5;
    writeNpy(join(dir, "shuffled_edges.npy"), e, [4, 56]);
    assertDataError(() => loadCausalMMMSim({ dir }), { file: join(dir, "shuffled_edges.npy"), column: "entry 4", row: 2, match: /not 0 or 1/ });
  });
});
