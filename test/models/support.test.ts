import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Graph } from "../../lib/graph";
import { DEFAULT_THRESHOLDS, selectByStability, selectByValidation, selectTopK, thresholdGraph } from "../../lib/models/support";

// ---------------------------------------------------------------------------------------------
// Hand-made edge probabilities (G[j][i] = P(j -> i)); the diagonals are large on purpose: a
// selection must never pick a self-loop.
// ---------------------------------------------------------------------------------------------

const unitA: Graph = [
  [0.99, 0.9, 0.1, 0.45],
  [0.3, 0.99, 0.7, 0.05],
  [0.55, 0.2, 0.99, 0.8],
  [0.0, 0.6, 0.35, 0.99],
];
const unitB: Graph = [
  [1.0, 0.15, 0.65, 0.25],
  [0.95, 1.0, 0.4, 0.5],
  [0.1, 0.85, 1.0, 0.02],
  [0.75, 0.3, 0.2, 1.0],
];

/** Number of off-diagonal ones. */
function edges(g: Graph): number {
  return g.reduce((s, row, j) => s + row.reduce((a, v, i) => a + (i !== j && v ? 1 : 0), 0), 0);
}

/** A copy of `g` with `v` at [j][i]. */
function withValue(g: Graph, j: number, i: number, v: number): Graph {
  return g.map((row, r) => row.map((x, c) => (r === j && c === i ? v : x)));
}

describe("thresholdGraph", () => {
  it("keeps the off-diagonal entries >= the threshold (the threshold itself included), never the diagonal", () => {
    assert.deepEqual(thresholdGraph(unitA, 0.6), [
      [0, 1, 0, 0],
      [0, 0, 1, 0],
      [0, 0, 0, 1],
      [0, 1, 0, 0],
    ]);
    assert.deepEqual(thresholdGraph(unitA, 0.55)[2], [1, 0, 0, 1]);
    assert.deepEqual(thresholdGraph(unitA, 0.56)[2], [0, 0, 0, 1]);
    assert.equal(edges(thresholdGraph(unitA, 0)), 12);
    thresholdGraph(unitA, 0).forEach((row, j) => assert.equal(row[j], 0));
  });
});

// ---------------------------------------------------------------------------------------------
// (a) Validation threshold
// ---------------------------------------------------------------------------------------------

describe("selectByValidation", () => {
  it("scores the support of every threshold and picks the one of the lowest score", () => {
    const seen: Graph[][] = [];
    // A fake validation score: the squared distance of the mean support size from 5 edges, plus
    // a penalty when unit A's edge 1 -> 2 (P = 0.7) is left out.
    const fake = (graphs: Graph[]) => ((edges(graphs[0]) + edges(graphs[1])) / 2 - 5) ** 2 + (graphs[0][1][2] ? 0 : 0.5) + 1;
    const score = (graphs: Graph[]) => {
      seen.push(graphs);
      return fake(graphs);
    };
    const thresholds = [0.8, 0.2, 0.5, 0.6, 0.7, 0.4];
    const sel = selectByValidation([unitA, unitB], score, { thresholds, tolerance: 0 });
    // every candidate scored once, in increasing threshold order, with its thresholded graphs
    const sorted = [...thresholds].sort((a, b) => a - b);
    assert.equal(seen.length, thresholds.length);
    sorted.forEach((t, k) => assert.deepEqual(seen[k], [thresholdGraph(unitA, t), thresholdGraph(unitB, t)], `graphs of threshold ${t}`));
    assert.deepEqual(
      sel.evidence.candidates.map((c) => c.threshold),
      sorted,
    );
    sel.evidence.candidates.forEach((c, k) => {
      assert.equal(c.edges, (edges(seen[k][0]) + edges(seen[k][1])) / 2);
      assert.equal(c.score, fake(seen[k]));
    });
    // Edge counts per threshold (A, B): 0.2 -> 9, 9; 0.4 -> 6, 6; 0.5 -> 5, 5; 0.6 -> 4, 4;
    // 0.7 -> 3, 3; 0.8 -> 2, 2. Scores: 17, 2, 1, 2, 5, 10.5: 0.5 is the minimum.
    assert.equal(sel.evidence.chosen.threshold, 0.5);
    assert.equal(sel.evidence.chosen.score, Math.min(...sel.evidence.candidates.map((c) => c.score)));
    assert.equal(sel.method, "validation");
    assert.equal(sel.evidence.tolerance, 0);
    assert.deepEqual(sel.graphs, [thresholdGraph(unitA, 0.5), thresholdGraph(unitB, 0.5)]);
    sel.graphs.forEach((g) => g.forEach((row, j) => assert.equal(row[j], 0)));
  });

  it("among scores within the tolerance of the best, prefers the sparsest support (highest threshold)", () => {
    // score by threshold, read from the support size of unit A (thresholds 0.3 .. 0.8 give
    // 8, 6, 5, 4, 3, 2 edges)
    const byEdges: Record<number, number> = { 8: 1.0, 6: 1.0, 5: 1.0, 4: 1.0008, 3: 1.0015, 2: 3 };
    const score = (graphs: Graph[]) => byEdges[edges(graphs[0])];
    const thresholds = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8];
    const pick = (tolerance?: number) => selectByValidation([unitA], score, { thresholds, tolerance }).evidence.chosen.threshold;
    // exact ties: the highest of the tied thresholds
    assert.equal(pick(0), 0.5);
    // the default tolerance (0.1 %) also takes the 0.08 % worse, sparser 0.6; not the 0.15 % worse 0.7
    assert.equal(pick(), 0.6);
    assert.equal(selectByValidation([unitA], score, { thresholds }).evidence.tolerance, 0.001);
    assert.equal(pick(0.002), 0.7);
    assert.equal(pick(10), 0.8);
  });

  it("handles negative scores (lower is better): the tolerance is relative to |best|", () => {
    const byEdges: Record<number, number> = { 8: -2.0, 6: -2.001, 4: -1.9995, 3: -1.5, 2: 0 };
    const score = (graphs: Graph[]) => byEdges[edges(graphs[0])];
    const thresholds = [0.3, 0.4, 0.6, 0.7, 0.8];
    assert.equal(selectByValidation([unitA], score, { thresholds, tolerance: 0 }).evidence.chosen.threshold, 0.4);
    // -1.9995 is within 0.1 % of -2.001 (0.0015 above it, 0.075 %); -1.5 is not
    assert.equal(selectByValidation([unitA], score, { thresholds, tolerance: 0.001 }).evidence.chosen.threshold, 0.6);
  });

  it("uses the default thresholds 0.05 .. 0.95", () => {
    const seen: number[] = [];
    const sel = selectByValidation([unitA], (g) => {
      seen.push(edges(g[0]));
      return 1;
    });
    assert.deepEqual(DEFAULT_THRESHOLDS, [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95]);
    assert.deepEqual(
      seen,
      sel.evidence.candidates.map((c) => c.edges),
    );
    assert.equal(seen.length, 19);
    // all tied: the sparsest, 0.95 (no off-diagonal entry reaches it in unit A)
    assert.equal(sel.evidence.chosen.threshold, 0.95);
    assert.equal(edges(sel.graphs[0]), 0);
  });

  it("rejects bad thresholds, non-finite scores and bad probabilities", () => {
    const ok = () => 1;
    for (const thresholds of [[], [0], [0.5, -0.1], [1.5], [NaN], [0.3, Infinity]]) {
      assert.throws(() => selectByValidation([unitA], ok, { thresholds }), /thresholds must be in \(0, 1\]/, `thresholds [${thresholds}]`);
    }
    assert.doesNotThrow(() => selectByValidation([unitA], ok, { thresholds: [1] }));
    assert.throws(() => selectByValidation([unitA], (g) => (edges(g[0]) > 3 ? 1 : NaN), { thresholds: [0.5, 0.7] }), /the score of threshold 0.7 is NaN/);
    assert.throws(() => selectByValidation([], ok), /selectByValidation: no graphs/);
    assert.throws(() => selectByValidation([unitA, unitB.slice(0, 3)], ok), /graph 1 is not 4 x 4/);
    assert.throws(() => selectByValidation([unitA, unitB.map((r, j) => (j === 2 ? r.slice(1) : r))], ok), /graph 1 is not 4 x 4/);
    assert.throws(() => selectByValidation([withValue(unitA, 2, 1, NaN)], ok), /graph 0 has a non-finite value at \[2\]\[1\]/);
    assert.throws(() => selectByValidation([unitA, withValue(unitB, 0, 3, Infinity)], ok), /graph 1 has a non-finite value at \[0\]\[3\]/);
  });
});

// ---------------------------------------------------------------------------------------------
// (b) Stability selection
// ---------------------------------------------------------------------------------------------

describe("selectByStability", () => {
  // Five runs over two units of three nodes; run r's P(j -> i).
  const runs: Graph[][] = [
    [
      [
        [0.9, 0.8, 0.35],
        [0.6, 0.9, 0.5],
        [0.2, 0.49, 0.9],
      ],
      [
        [0.9, 0.1, 0.1],
        [0.1, 0.9, 0.1],
        [0.7, 0.7, 0.9],
      ],
    ],
    [
      [
        [0.9, 0.7, 0.2],
        [0.4, 0.9, 0.6],
        [0.1, 0.3, 0.9],
      ],
      [
        [0.9, 0.5, 0.1],
        [0.1, 0.9, 0.1],
        [0.6, 0.2, 0.9],
      ],
    ],
    [
      [
        [0.9, 0.9, 0.3],
        [0.7, 0.9, 0.2],
        [0.1, 0.2, 0.9],
      ],
      [
        [0.9, 0.6, 0.1],
        [0.1, 0.9, 0.1],
        [0.9, 0.1, 0.9],
      ],
    ],
    [
      [
        [0.9, 0.2, 0.6],
        [0.3, 0.9, 0.9],
        [0.1, 0.1, 0.9],
      ],
      [
        [0.9, 0.6, 0.1],
        [0.1, 0.9, 0.1],
        [0.2, 0.1, 0.9],
      ],
    ],
    [
      [
        [0.9, 0.6, 0.1],
        [0.55, 0.9, 0.1],
        [0.3, 0.1, 0.9],
      ],
      [
        [0.9, 0.6, 0.1],
        [0.1, 0.9, 0.1],
        [0.8, 0.1, 0.9],
      ],
    ],
  ];

  it("counts each edge's share of runs with P >= edgeCut and keeps those at or above the cut", () => {
    const sel = selectByStability(runs, { edgeCut: 0.5, frequencyCut: 0.6 });
    assert.equal(sel.method, "stability");
    assert.equal(sel.evidence.runs, 5);
    assert.equal(sel.evidence.edgeCut, 0.5);
    assert.equal(sel.evidence.frequencyCut, 0.6);
    // counted by hand from the runs above (P = 0.5 counts as present, 0.49 does not)
    const expectedFrequency = [
      [
        [0, 0.8, 0.2],
        [0.6, 0, 0.6],
        [0, 0, 0],
      ],
      [
        [0, 0.8, 0],
        [0, 0, 0],
        [0.8, 0.2, 0],
      ],
    ];
    sel.evidence.frequency.forEach((g, u) =>
      g.forEach((row, j) =>
        row.forEach((v, i) => {
          assert.ok(Math.abs(v - expectedFrequency[u][j][i]) < 1e-12, `frequency[${u}][${j}][${i}] = ${v}, expected ${expectedFrequency[u][j][i]}`);
        }),
      ),
    );
    // 3 of 5 runs is exactly the 0.6 cut: kept
    assert.deepEqual(sel.graphs, [
      [
        [0, 1, 0],
        [1, 0, 1],
        [0, 0, 0],
      ],
      [
        [0, 1, 0],
        [0, 0, 0],
        [1, 0, 0],
      ],
    ]);
    // a higher cut keeps only the 4-of-5 edges; a lower edge cut adds what it lets through
    assert.deepEqual(selectByStability(runs, { edgeCut: 0.5, frequencyCut: 0.8 }).graphs, [
      [
        [0, 1, 0],
        [0, 0, 0],
        [0, 0, 0],
      ],
      [
        [0, 1, 0],
        [0, 0, 0],
        [1, 0, 0],
      ],
    ]);
    assert.deepEqual(selectByStability(runs, { edgeCut: 0.3, frequencyCut: 0.6 }).graphs, [
      [
        [0, 1, 1],
        [1, 0, 1],
        [0, 0, 0],
      ],
      [
        [0, 1, 0],
        [0, 0, 0],
        [1, 0, 0],
      ],
    ]);
    // the defaults are edgeCut 0.5, frequencyCut 0.6
    assert.deepEqual(selectByStability(runs).graphs, sel.graphs);
  });

  it("an edge present in every run reaches a cut of 1 despite rounding (ten runs of 1/10)", () => {
    const ten = Array.from({ length: 10 }, () => [
      [
        [0.9, 0.7],
        [0.2, 0.9],
      ],
    ]);
    const sel = selectByStability(ten, { frequencyCut: 1 });
    assert.ok(Math.abs(sel.evidence.frequency[0][0][1] - 1) < 1e-12);
    assert.deepEqual(sel.graphs, [
      [
        [0, 1],
        [0, 0],
      ],
    ]);
    // nine of ten is below a cut of 1
    const nine = ten.map((r, k) =>
      k === 4
        ? [
            [
              [0.9, 0.1],
              [0.2, 0.9],
            ],
          ]
        : r,
    );
    assert.deepEqual(selectByStability(nine, { frequencyCut: 1 }).graphs, [
      [
        [0, 0],
        [0, 0],
      ],
    ]);
    assert.deepEqual(selectByStability(nine, { frequencyCut: 0.9 }).graphs, [
      [
        [0, 1],
        [0, 0],
      ],
    ]);
  });

  it("never selects the diagonal, even at P = 1 in every run", () => {
    const sel = selectByStability(
      runs.map((r) => r.map((g) => g.map((row, j) => row.map((v, i) => (i === j ? 1 : v))))),
      { edgeCut: 0.5, frequencyCut: 0.2 },
    );
    sel.evidence.frequency.forEach((g) => g.forEach((row, j) => assert.equal(row[j], 0)));
    sel.graphs.forEach((g) => g.forEach((row, j) => assert.equal(row[j], 0)));
  });

  it("rejects no runs, a bad cut, runs of other shapes and non-finite values", () => {
    assert.throws(() => selectByStability([]), /no runs/);
    for (const frequencyCut of [0, -0.5, 1.2, NaN]) {
      assert.throws(() => selectByStability(runs, { frequencyCut }), /frequencyCut must be in \(0, 1\]/, `cut ${frequencyCut}`);
    }
    assert.throws(() => selectByStability([runs[0], runs[1].slice(0, 1)]), /run 1 has 1 units, run 0 has 2/);
    assert.throws(
      () =>
        selectByStability([
          runs[0],
          [
            [
              [0.1, 0.2],
              [0.3, 0.4],
            ],
            [
              [0.1, 0.2],
              [0.3, 0.4],
            ],
          ],
        ]),
      /selectByStability: run 1 has graphs of another size/,
    );
    assert.throws(
      () =>
        selectByStability([
          runs[0],
          [
            runs[1][0],
            [
              [0.9, 0.1],
              [0.1, 0.9, 0.2],
              [0.1, 0.1, 0.9],
            ],
          ],
        ]),
      /run 1\): graph 1 is not 3 x 3/,
    );
    assert.throws(
      () => selectByStability([runs[0], runs[1], [runs[2][0], withValue(runs[2][1], 1, 0, NaN)]]),
      /run 2\): graph 1 has a non-finite value at \[1\]\[0\]/,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// (c) Top-k
// ---------------------------------------------------------------------------------------------

describe("selectTopK", () => {
  it("selects exactly the k most probable off-diagonal edges of each unit", () => {
    const sel = selectTopK([unitA, unitB], { k: 3 });
    assert.equal(sel.method, "top-k");
    assert.equal(sel.evidence.k, 3);
    // unit A: 0.9 (0 -> 1), 0.8 (2 -> 3), 0.7 (1 -> 2); unit B: 0.95 (1 -> 0), 0.85 (2 -> 1), 0.75 (3 -> 0)
    assert.deepEqual(sel.graphs[0], [
      [0, 1, 0, 0],
      [0, 0, 1, 0],
      [0, 0, 0, 1],
      [0, 0, 0, 0],
    ]);
    assert.deepEqual(sel.graphs[1], [
      [0, 0, 0, 0],
      [1, 0, 0, 0],
      [0, 1, 0, 0],
      [1, 0, 0, 0],
    ]);
    assert.deepEqual(sel.evidence.cutoff, [0.7, 0.75]);
    // every k: exactly k edges, and no unselected entry above a selected one
    for (let k = 0; k <= 12; k++) {
      const s = selectTopK([unitA, unitB], { k });
      [unitA, unitB].forEach((p, u) => {
        const g = s.graphs[u];
        assert.equal(edges(g), k, `k = ${k}, unit ${u}`);
        let minIn = Infinity;
        let maxOut = -Infinity;
        p.forEach((row, j) =>
          row.forEach((v, i) => {
            if (i === j) return assert.equal(g[j][i], 0);
            if (g[j][i]) minIn = Math.min(minIn, v);
            else maxOut = Math.max(maxOut, v);
          }),
        );
        assert.ok(minIn >= maxOut, `k = ${k}, unit ${u}: selected ${minIn} < unselected ${maxOut}`);
        assert.equal(s.evidence.cutoff[u], k > 0 ? minIn : Infinity);
      });
    }
    assert.equal(edges(selectTopK([unitA], { k: 12 }).graphs[0]), 12);
  });

  it("breaks ties by the lower flat index j * N + i, whatever the input order", () => {
    const tied: Graph = [
      [5, 0.5, 0.5, 0.1],
      [0.5, 5, 0.2, 0.5],
      [0.9, 0.5, 5, 0.5],
      [0.5, 0.2, 0.1, 5],
    ];
    // 0.9 first, then the 0.5s in flat order: [0][1], [0][2], [1][0], [1][3], [2][1], ...
    assert.deepEqual(selectTopK([tied], { k: 4 }).graphs[0], [
      [0, 1, 1, 0],
      [1, 0, 0, 0],
      [1, 0, 0, 0],
      [0, 0, 0, 0],
    ]);
    assert.deepEqual(selectTopK([tied], { k: 5 }).graphs[0][1], [1, 0, 0, 1]);
    // deterministic: the same call twice gives the same graph
    assert.deepEqual(selectTopK([tied], { k: 6 }), selectTopK([tied], { k: 6 }));
  });

  it("takes k = round(density x N(N-1)); k wins over density", () => {
    // N = 4: 12 pairs; 0.2 -> 2.4 -> 2; 0.25 -> 3; 0.3 -> 3.6 -> 4; 0 -> 0; 1 -> 12
    for (const [density, k] of [
      [0.2, 2],
      [0.25, 3],
      [0.3, 4],
      [0, 0],
      [1, 12],
    ]) {
      const s = selectTopK([unitA, unitB], { density });
      assert.equal(s.evidence.k, k, `density ${density}`);
      s.graphs.forEach((g) => assert.equal(edges(g), k));
    }
    assert.equal(selectTopK([unitA], { k: 5, density: 0.2 }).evidence.k, 5);
    const none = selectTopK([unitA], { k: 0 });
    assert.deepEqual(none.graphs[0], thresholdGraph(unitA, 2));
    assert.deepEqual(none.evidence.cutoff, [Infinity]);
  });

  it("rejects a missing or bad k and bad probabilities", () => {
    assert.throws(() => selectTopK([unitA], {}), /give k or density/);
    for (const k of [-1, 13, 2.5, NaN]) assert.throws(() => selectTopK([unitA], { k }), /k must be an integer in 0\.\.12/, `k ${k}`);
    assert.throws(() => selectTopK([unitA], { density: 1.5 }), /k must be an integer in 0\.\.12, got 18/);
    assert.throws(() => selectTopK([], { k: 1 }), /selectTopK: no graphs/);
    assert.throws(() => selectTopK([unitA, unitB.slice(1)], { k: 1 }), /selectTopK: graph 1 is not 4 x 4/);
    assert.throws(() => selectTopK([withValue(unitA, 3, 2, -Infinity)], { k: 1 }), /graph 0 has a non-finite value at \[3\]\[2\]/);
    // a non-finite diagonal is bad input too (it is never selected, but it is not a probability)
    assert.throws(() => selectTopK([withValue(unitA, 1, 1, NaN)], { k: 1 }), /non-finite value at \[1\]\[1\]/);
  });
});
