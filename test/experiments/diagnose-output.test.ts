/**
 * The output side of lib/experiments/diagnose.ts without training anything: CSV fields quoted
 * by RFC 4180 (`csvField`), and what diagnostics.json keeps of a result (`diagnosisFile`: no
 * per-unit graphs, evaluated units named by their ids).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type DiagnosisResult, DIAGNOSE_DEFAULTS, csvField, diagnosisFile } from "../../lib/experiments/diagnose";

describe("csvField", () => {
  it("leaves plain fields alone and quotes commas, quotes, CR and LF, doubling inner quotes", () => {
    assert.equal(csvField("tv"), "tv");
    assert.equal(csvField(0.25), "0.25");
    assert.equal(csvField(""), "");
    assert.equal(csvField("a,b"), '"a,b"');
    assert.equal(csvField('a,"b"'), '"a,""b"""');
    assert.equal(csvField('say "hi"'), '"say ""hi"""');
    assert.equal(csvField("two\nlines"), '"two\nlines"');
    assert.equal(csvField("cr\rhere"), '"cr\rhere"');
    assert.equal(csvField(" padded "), '" padded "', "blank space at an end survives trimming readers");
  });
});

describe("diagnosisFile", () => {
  it("drops the per-unit graphs and names the evaluated units by their ids", () => {
    const g = [
      [0, 0.5],
      [0.25, 0],
    ];
    const result: DiagnosisResult = {
      panel: {
        units: 3,
        unitIds: ["x,1", "y", "z"],
        steps: 50,
        nodes: ["tv", "target"],
        roles: ["channel", "target"],
        split: { train: 30, validation: 10, test: 10 },
      },
      stage1: { probs: [g, g, g], meanProbs: g, support: [g, g, g], supportShare: g, threshold: 0.5, scores: null },
      graph: {
        chosen: "granger-pooled",
        members: ["granger-pooled"],
        tied: ["granger-pooled"],
        label: "Granger (pooled)",
        scores: g,
        perUnit: false,
        perUnitEvidence: { own: 1, pooled: 1, gain: 0 },
        candidates: [],
        null: { mean: 0, sd: 1 },
        warnings: [],
        truthScores: null,
      },
      decoders: [],
      evalUnits: [0, 2],
      hasTruth: false,
      seconds: 1,
      config: { ...DIAGNOSE_DEFAULTS, log: undefined } as unknown as DiagnosisResult["config"],
    };
    const f = diagnosisFile(result);
    assert.deepEqual(f.evalUnits, ["x,1", "z"]);
    assert.deepEqual(Object.keys(f.stage1).sort(), ["meanProbs", "scores", "supportShare", "threshold"]);
    assert.deepEqual(f.panel.unitIds, ["x,1", "y", "z"]);
    assert.equal(f.graph.chosen, "granger-pooled", "the reported graph and its choice are kept");
    assert.deepEqual(result.evalUnits, [0, 2], "the result itself is not changed");
  });
});
