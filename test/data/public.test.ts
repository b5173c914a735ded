import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { readPanelCsv, writePanelCsv } from "../../lib/data/csv";
import { at } from "../../lib/data/panel";
import { REPO_ROOT } from "../../lib/study";
import { dataPath } from "../../lib/data/paths";
import { loadDeepCausalMMM, loadMeridianGeo } from "../../lib/data/public";
import { assertDataError, assertSamePanel, tempDir, writeText } from "./helpers";

// Both panels are in git (data/meridian, data/deepcausalmmm): a test run always has them.
const meridianFile = dataPath("meridian/geo_all_channels.csv");
const deepFile = dataPath("deepcausalmmm/mmm_data.csv");

/** A copy of a CSV with one line (1-based) changed by `edit`. */
function editedCopy(src: string, name: string, line: number, edit: (cells: string[]) => string[]): string {
  const lines = readFileSync(src, "utf8").split("\n");
  lines[line - 1] = edit(lines[line - 1].split(",")).join(",");
  return writeText(tempDir(), name, lines.join("\n"));
}

describe("public panels' location", () => {
  it("default to the repository's data/ folder (when GRAPH_MMM_DATA_DIR does not name another)", () => {
    const saved = process.env.GRAPH_MMM_DATA_DIR;
    delete process.env.GRAPH_MMM_DATA_DIR;
    try {
      assert.equal(dataPath("meridian/geo_all_channels.csv"), join(REPO_ROOT, "data", "meridian", "geo_all_channels.csv"));
      assert.equal(dataPath("deepcausalmmm/mmm_data.csv"), join(REPO_ROOT, "data", "deepcausalmmm", "mmm_data.csv"));
    } finally {
      if (saved !== undefined) process.env.GRAPH_MMM_DATA_DIR = saved;
    }
  });
});

describe("Meridian geo panel", () => {
  it("40 geos x 156 weeks, 5 impression channels, target conversions, context population", () => {
    const p = loadMeridianGeo();
    assert.deepEqual([p.units, p.steps, p.nodes], [40, 156, 6]);
    assert.deepEqual(p.nodeNames, [
      "Channel0_impression",
      "Channel1_impression",
      "Channel2_impression",
      "Channel3_impression",
      "Channel4_impression",
      "conversions",
    ]);
    assert.deepEqual(p.roles, ["channel", "channel", "channel", "channel", "channel", "target"]);
    assert.deepEqual(p.context!.names, ["population"]);
    assert.equal(p.timeLabels![0], "2021-01-25");
    assert.equal(p.timeLabels![1], "2021-02-01");
    assert.equal(p.timeLabels![155], "2024-01-15");
    assert.equal(p.unitIds[0], "Geo0");
    // First data row of the file: Geo0, 2021-01-25, Channel0_impression 280668, conversions 1954576.8.
    assert.equal(p.values[at(p, 0, 0, 0)], 280668);
    assert.equal(p.values[at(p, 0, 0, 5)], Math.fround(1954576.8));
    assert.equal(p.provenance.generator, "meridian-geo");
    const notUsed = (p.provenance.params as { notUsed: string[] }).notUsed;
    for (const c of ["competitor_sales_control", "Promo", "revenue_per_conversion", "Channel0_spend"]) assert.ok(notUsed.includes(c), c);
  });

  it("media: spend picks the spend columns (a fixed cost per impression in this file)", () => {
    const imp = loadMeridianGeo();
    const sp = loadMeridianGeo({ media: "spend" });
    assert.equal(sp.nodeNames[2], "Channel2_spend");
    const ratios = new Set<string>();
    for (let u = 0; u < sp.units; u++)
      for (let t = 0; t < sp.steps; t++) {
        const i = imp.values[at(imp, u, t, 0)];
        if (i > 0) ratios.add((sp.values[at(sp, u, t, 0)] / i).toFixed(5));
      }
    assert.deepEqual([...ratios], ["0.00733"]);
  });

  it("a misspelt required column is named, with the closest header name", () => {
    const file = editedCopy(meridianFile, "geo_misspelt.csv", 1, (c) => c.map((x) => (x === "conversions" ? "conversion" : x)));
    assertDataError(() => loadMeridianGeo({ file }), { file, column: "conversions", line: 1, match: /did you mean "conversion"/ });
  });

  it("a NaN cell is named by the file's own column and row", () => {
    const file = editedCopy(meridianFile, "geo_nan.csv", 11, (c) => {
      c[17] = "NaN"; // conversions
      return c;
    });
    assertDataError(() => loadMeridianGeo({ file }), { file, column: "conversions", row: 10, line: 11, match: /NaN/ });
  });

  it("round trip through CSV gives the same panel", () => {
    const p = loadMeridianGeo();
    const file = join(tempDir(), "meridian.csv");
    writePanelCsv(p, file);
    assertSamePanel(readPanelCsv(file), p);
  });
});

describe("DeepCausalMMM panel", () => {
  it("184 complete regions x 109 weeks, 13 channels, target visits; the 6 partial regions are dropped explicitly", () => {
    const p = loadDeepCausalMMM();
    assert.deepEqual([p.units, p.steps, p.nodes], [184, 109, 14]);
    assert.equal(p.roles.filter((r) => r === "channel").length, 13);
    assert.equal(p.nodeNames[0], "impressions_Channel_01");
    assert.equal(p.nodeNames[13], "target_visits");
    assert.equal(p.timeLabels, undefined, "weekid runs 0..108: the default axis");
    const read = p.provenance.history![0].args as { droppedUnits: { unit: string }[] };
    assert.deepEqual(read.droppedUnits.map((d) => d.unit).sort(), ["509", "518", "734", "744", "766", "801"]);
    const originals = (p.provenance.params as { channels: Record<string, string> }).channels;
    assert.equal(originals.impressions_Channel_01, "impressions_Channel_01_delayed_lag_1_decay_0.05_delay_1");
  });

  it("refuses the partial regions when asked to, naming the file's time column and the row", () => {
    assertDataError(() => loadDeepCausalMMM({ incompleteUnits: "error" }), {
      file: deepFile,
      column: "weekid",
      row: 1926,
      line: 1927,
      match: /unit "766" covers 0..65/,
    });
  });

  it("negative impressions are named by the original column", () => {
    const file = editedCopy(deepFile, "mmm_negative.csv", 3, (c) => {
      c[4] = "-5";
      return c;
    });
    assertDataError(() => loadDeepCausalMMM({ file }), {
      file,
      column: "impressions_Channel_03_geometric_max_lag_5_length_0.05",
      row: 2,
      line: 3,
      match: /negative spend/,
    });
  });

  it("a unit too short for the lag window plus horizon", () => {
    assertDataError(() => loadDeepCausalMMM({ minSteps: 120 }), { file: deepFile, column: "weekid", match: /fewer than the required minimum 120/ });
  });
});
