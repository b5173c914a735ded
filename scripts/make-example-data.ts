/**
 * Writes the small bring-your-own-data example in data/example/ (committed, < 200 KB):
 *
 *   data/example/panel.csv             long format: unit, time (weekly ISO dates), nodes, ctx_*
 *   data/example/panel.csv.roles.json  roles, provenance, unit -> graph
 *   data/example/panel.edges.csv       the true graphs: graph, source, target
 *
 * The panel is a small seeded sparse-target simulation (4 units, 8 nodes, 60 weeks, 3 graphs),
 * given a weekly date axis to show the date format. Re-run with
 * `npx tsc -p . && node build/scripts/make-example-data.js`; the output is deterministic.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { exampleDataDir, generateSparseTarget, readPanelCsv, writePanelCsv } from "../lib/data";

const dir = exampleDataDir();
mkdirSync(dir, { recursive: true });
const { panel } = generateSparseTarget({ units: 4, steps: 60, seed: 2024 });
const start = Date.UTC(2024, 0, 1);
panel.timeLabels = Array.from({ length: panel.steps }, (_, t) => new Date(start + 7 * t * 86400000).toISOString().slice(0, 10));
panel.provenance.history = [...(panel.provenance.history ?? []), { op: "timeLabels", args: { first: panel.timeLabels[0], step: "7 days" } }];
const files = writePanelCsv(panel, join(dir, "panel.csv"));
const back = readPanelCsv(files.csv);
if (back.units !== panel.units || back.steps !== panel.steps) throw new Error("example: read-back mismatch");
process.stdout.write(`wrote ${files.csv}, ${files.sidecar}, ${files.edges}\n`);
