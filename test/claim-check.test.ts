import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkClaimBlocks } from "./claim-check";

const block = (verdict: string, lines: string[]) => [`**Claim 1 ${verdict}** on this run:`, ...lines, ""].join("\n");

describe("the notebook claim checker", () => {
  const lines = [
    "- a MSE@7 / oracle MSE@7: 1.050 (<= 1.10): **holds**",
    "- a direct AR-CIG nAUPRC: 0.000 (<= 0.10): **holds** (by construction: no path)",
    "- oracle relative error against the true influence: 0.690 (<= 0.50): **does not hold**",
  ];
  it("accepts a verdict that follows from its measured lines", () => {
    assert.equal(checkClaimBlocks(block("holds in part", lines)), 1);
  });
  it("rejects a verdict that its measured lines contradict", () => {
    assert.throws(() => checkClaimBlocks(block("holds", lines)), /disagrees with its measured checks/);
  });
  it("rejects a check line whose holds/does not hold contradicts its number", () => {
    const wrong = [...lines.slice(0, 2), "- oracle relative error against the true influence: 0.690 (<= 0.50): **holds**"];
    assert.throws(() => checkClaimBlocks(block("holds", wrong)), /disagrees with its own number/);
  });
  it("a claim with only checks that hold by construction was not measured", () => {
    const built = ["- a direct AR-CIG nAUPRC: 0.000 (<= 0.10): **holds** (by construction: no path)"];
    assert.equal(checkClaimBlocks(block("was not measured", built)), 1);
    assert.throws(() => checkClaimBlocks(block("holds", built)), /disagrees with its measured checks \(was not measured\)/);
  });
  it("reads gap bounds against the line before", () => {
    const gap = [
      "- with the oracle graph: direct AR-CIG nAUPRC: 0.900 (>= 0.70): **holds**",
      "- with its learned support: direct AR-CIG nAUPRC: 0.800 (well below the oracle's (gap >= 0.20)): **holds**",
    ];
    assert.throws(() => checkClaimBlocks(block("holds", gap)), /disagrees with its own number/);
  });
});
