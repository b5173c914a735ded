import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fullGraph } from "../../lib/graph";
import { REPO_ROOT } from "../../lib/study";
import { meanRanking, nauprc, rankingMetrics, scoreGraph, scoreGraphs, snapTies, unitGraphs, spearman } from "../../lib/diagnostics/ranking";

interface FixtureCase {
  name: string;
  labels: number[];
  scores: number[];
  auroc: number;
  ap: number;
  prevalence: number;
  nauprc: number;
}

/** Reference values computed with scikit-learn, kept in the repository (test/fixtures/). */
const FIXTURE = join(REPO_ROOT, "test", "fixtures", "ranking-metrics.json");

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b} (tol ${tol})`);

describe("ranking metrics against scikit-learn", () => {
  const fixture = JSON.parse(readFileSync(FIXTURE, "utf8")) as { cases: FixtureCase[] };

  it("the fixture file has cases", () => {
    assert.ok(fixture.cases.length >= 20, `${fixture.cases.length} cases in ${join(FIXTURE)}`);
  });

  for (const c of fixture.cases) {
    it(`reproduces ${c.name} (AUROC, AP to 1e-9; nAUPRC from them)`, () => {
      const r = rankingMetrics(c.labels, c.scores);
      assert.equal(r.reason, undefined);
      close(r.auroc, c.auroc, 1e-9, "auroc");
      close(r.ap, c.ap, 1e-9, "ap");
      close(r.prevalence, c.prevalence, 1e-12, "prevalence");
      close(nauprc(r.ap, r.prevalence), c.nauprc, 1e-9, "nauprc (from AP)");
      close(r.nauprc, c.nauprc, 1e-9, "nauprc");
      assert.equal(r.positives + r.negatives, c.labels.length);
    });
  }

  it("does not depend on the order of the entries", () => {
    const c = fixture.cases.find((x) => x.name === "partial-ties")!;
    const order = c.labels.map((_, k) => k).reverse();
    const r = rankingMetrics(
      order.map((k) => c.labels[k]),
      order.map((k) => c.scores[k]),
    );
    close(r.auroc, c.auroc, 1e-12, "auroc");
    close(r.ap, c.ap, 1e-12, "ap");
  });
});

describe("ranking edge cases", () => {
  it("no positive or no negative label: NaN with a reason, never 0.5", () => {
    for (const labels of [
      [0, 0, 0],
      [1, 1, 1],
    ]) {
      const r = rankingMetrics(labels, [0.1, 0.5, 0.9]);
      assert.ok(Number.isNaN(r.auroc) && Number.isNaN(r.ap) && Number.isNaN(r.nauprc));
      assert.match(r.reason ?? "", labels[0] ? /no negative/ : /no positive/);
    }
    const empty = rankingMetrics([], []);
    assert.ok(Number.isNaN(empty.auroc));
    assert.match(empty.reason ?? "", /no entries/);
  });

  it("a constant score gives AUROC 0.5, AP = p and nAUPRC 0", () => {
    const r = rankingMetrics([1, 0, 0, 1, 0], [3, 3, 3, 3, 3]);
    assert.equal(r.auroc, 0.5);
    close(r.ap, 0.4, 1e-15, "ap");
    close(r.nauprc, 0, 1e-15, "nauprc");
  });

  it("non-finite scores give NaN with a reason; bad labels and lengths throw", () => {
    assert.match(rankingMetrics([0, 1], [0.1, NaN]).reason ?? "", /finite/);
    assert.throws(() => rankingMetrics([0, 2], [0.1, 0.2]), /labels must be 0 or 1/);
    assert.throws(() => rankingMetrics([0, 1], [0.1]), /2 labels but 1 scores/);
    assert.equal(rankingMetrics([false, true], [0.1, 0.2]).auroc, 1);
  });

  it("nauprc() is NaN when the prevalence is 0 or 1", () => {
    assert.ok(Number.isNaN(nauprc(0.5, 0)));
    assert.ok(Number.isNaN(nauprc(0.5, 1)));
    assert.equal(nauprc(1, 0.25), 1);
  });
});

describe("graph scoring", () => {
  const truth = [
    [0, 1, 0],
    [0, 0, 1],
    [0, 0, 0],
  ];

  it("scores off-diagonal entries only", () => {
    const scores = [
      [100, 0.9, 0.1],
      [0.2, -100, 0.8],
      [0.3, 0.05, 100],
    ];
    const r = scoreGraph(scores, truth);
    assert.equal(r.positives, 2);
    assert.equal(r.negatives, 4);
    assert.equal(r.auroc, 1);
    assert.equal(r.ap, 1);
    assert.equal(r.nauprc, 1);
  });

  it("rejects non-0/1 truth and mismatched shapes", () => {
    assert.throws(
      () =>
        scoreGraph(fullGraph(3), [
          [0, 0.5, 0],
          [0, 0, 0],
          [0, 0, 0],
        ]),
      /must be 0 or 1/,
    );
    assert.throws(() => scoreGraph(fullGraph(2), truth), /2 rows, true graph 3/);
  });

  it("per unit, mean over units and pooled; a unit without edges is skipped and counted", () => {
    const noEdges = [
      [0, 0, 0],
      [0, 0, 0],
      [0, 0, 0],
    ];
    const perfect = [
      [0, 0.9, 0.1],
      [0.2, 0, 0.8],
      [0.3, 0.05, 0],
    ];
    const inverted = perfect.map((row) => row.map((v) => -v));
    const set = scoreGraphs([perfect, inverted, perfect], [truth, truth, noEdges]);
    assert.equal(set.perUnit.length, 3);
    assert.equal(set.perUnit[0].auroc, 1);
    assert.equal(set.perUnit[1].auroc, 0);
    assert.ok(Number.isNaN(set.perUnit[2].auroc));
    assert.match(set.perUnit[2].reason ?? "", /no positive/);
    assert.equal(set.mean.unitsScored, 2);
    assert.equal(set.mean.unitsSkipped, 1);
    assert.equal(set.mean.auroc, 0.5);
    close(set.mean.ap, (1 + set.perUnit[1].ap) / 2, 1e-15, "mean ap");
    // pooled: one ranking over the 18 off-diagonal entries of the three units
    const off = (g: number[][]) => g.flatMap((row, j) => row.filter((_, i) => i !== j));
    const pooled = rankingMetrics([...off(truth), ...off(truth), ...off(noEdges)], [...off(perfect), ...off(inverted), ...off(perfect)]);
    assert.deepEqual(set.pooled, pooled);
    assert.equal(set.pooled.positives, 4);
    assert.equal(set.pooled.negatives, 14);
  });

  it("a shared score matrix and a shared graph: pooled equals the single-graph score", () => {
    const scores = [
      [0, 0.4, 0.4],
      [0.1, 0, 0.7],
      [0.4, 0.05, 0],
    ];
    const single = scoreGraph(scores, truth);
    const set = scoreGraphs(scores, truth, 5);
    assert.equal(set.perUnit.length, 5);
    close(set.pooled.auroc, single.auroc, 1e-15, "pooled auroc");
    close(set.pooled.ap, single.ap, 1e-15, "pooled ap");
    close(set.mean.auroc, single.auroc, 1e-15, "mean auroc");
  });

  it("meanRanking of nothing scoreable is NaN with a reason", () => {
    const m = meanRanking([rankingMetrics([0, 0], [1, 2])]);
    assert.ok(Number.isNaN(m.auroc));
    assert.match(m.reason ?? "", /no unit could be scored/);
  });

  it("unitGraphs maps each unit to its true graph", () => {
    const g = unitGraphs({ units: 3, truth: { graphs: [truth, fullGraph(3)], graphOfUnit: [1, 0, 1] } });
    assert.deepEqual(g, [fullGraph(3), truth, fullGraph(3)]);
    assert.throws(() => unitGraphs({ units: 3 }), /no true graphs/);
  });

  it("snapTies merges noise-level differences into ties, chained in sorted order", () => {
    assert.deepEqual(snapTies([1, 1 + 1e-9, 2, 1 - 1e-9, 5], 1e-6), [1 - 1e-9, 1 - 1e-9, 2, 1 - 1e-9, 5]);
    assert.deepEqual(snapTies([3, 1, 2], 0), [3, 1, 2]);
  });
});

describe("spearman", () => {
  it("is 1 for monotone pairs, -1 for reversed ones, and handles ties with average ranks", () => {
    assert.equal(spearman([1, 2, 3, 4], [10, 20, 30, 400]), 1);
    assert.equal(spearman([1, 2, 3, 4], [4, 3, 2, 1]), -1);
    // x ranks 0, 1.5, 1.5, 3; y ranks 0, 1, 2, 3: r = 0.9487
    assert.ok(Math.abs(spearman([1, 2, 2, 3], [1, 2, 3, 4]) - 0.9486832980505138) < 1e-12);
    assert.ok(Number.isNaN(spearman([1, 1, 1], [1, 2, 3])));
  });
});
