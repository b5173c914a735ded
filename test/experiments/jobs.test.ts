import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { overPanels, panelSpecForSeed, type PanelSpec } from "../../lib/experiments/jobs";
import type { JobEvent } from "../../lib/runner/run";
import { panelSeedJob } from "../runner/fake-jobs";

const root = mkdtempSync(join(tmpdir(), "graph-mmm-jobs-"));

describe("per-seed studies over panels", () => {
  after(() => rmSync(root, { recursive: true, force: true }));

  const panels: PanelSpec[] = [
    { generator: "sparse-target", input: { units: 4, steps: 20, seed: 7 } },
    { generator: "bypass-prone", input: { units: 4, steps: 20, seed: 100 } },
    { generator: "causalmmm-sim" },
  ];

  it("runs every (panel, seed) as one batch and returns the results per panel in seed order", async () => {
    const study = overPanels(panelSeedJob as never, "test study");
    const events: JobEvent[] = [];
    const results = (await study(panels, [3, 1], {}, {
      workers: 2, cacheDir: join(root, "cache"), progress: false, log: () => {}, onProgress: (e) => events.push(e),
    })) as unknown as { generator: string; panelSeed: number | null; seed: number; pid: number }[][];
    assert.deepEqual(
      results.map((r) => r.map(({ generator, panelSeed, seed }) => ({ generator, panelSeed, seed }))),
      [
        [{ generator: "sparse-target", panelSeed: 10, seed: 3 }, { generator: "sparse-target", panelSeed: 8, seed: 1 }],
        [{ generator: "bypass-prone", panelSeed: 103, seed: 3 }, { generator: "bypass-prone", panelSeed: 101, seed: 1 }],
        [{ generator: "causalmmm-sim", panelSeed: null, seed: 3 }, { generator: "causalmmm-sim", panelSeed: null, seed: 1 }],
      ],
    );
    // one batch: a single progress count over all six jobs, each run in a worker process
    assert.deepEqual([...new Set(events.map((e) => e.total))], [6]);
    assert.ok(results.flat().every((r) => r.pid !== process.pid));
  });

  it("gives every seed its own draw of a generated panel and leaves the external data as they are", () => {
    assert.deepEqual(panelSpecForSeed(panels[0], 2), { generator: "sparse-target", input: { units: 4, steps: 20, seed: 9 } });
    assert.equal(panelSpecForSeed(panels[2], 2), panels[2]);
    assert.deepEqual(panels[0].input, { units: 4, steps: 20, seed: 7 }, "the study's spec is not changed");
  });
});
