/** Shared helpers of the data-layer tests (not a test file itself). */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DataError } from "../../lib/data/errors";
import { type Panel, nodeSeries } from "../../lib/data/panel";

/** A fresh temporary folder under the OS temp dir (never inside the repository). */
export function tempDir(prefix = "graph-mmm-data-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes `text` to `dir/name` and returns the path. */
export function writeText(dir: string, name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** What a DataError must name. */
export interface Expected {
  file: string;
  column?: string;
  row?: number;
  line?: number;
  /** A pattern the message must match as well. */
  match?: RegExp;
}

/**
 * Asserts that `fn` throws a DataError whose message names the file, the column and the row (or
 * line), and whose fields carry them; returns the error for further checks.
 */
export function assertDataError(fn: () => unknown, e: Expected): DataError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof DataError, `expected a DataError, got ${caught instanceof Error ? `${caught.name}: ${caught.message}` : String(caught)}`);
  const err = caught as DataError;
  const msg = err.message;
  assert.ok(msg.includes(e.file), `message should name the file ${e.file}: ${msg}`);
  assert.equal(err.file, e.file);
  if (e.column !== undefined) {
    assert.ok(msg.includes(`column "${e.column}"`), `message should name column "${e.column}": ${msg}`);
    assert.equal(err.column, e.column);
  }
  if (e.row !== undefined) {
    assert.ok(new RegExp(`\\brow ${e.row}\\b`).test(msg), `message should name row ${e.row}: ${msg}`);
    assert.equal(err.row, e.row);
  }
  if (e.line !== undefined) {
    assert.ok(new RegExp(`\\bline ${e.line}\\b`).test(msg), `message should name line ${e.line}: ${msg}`);
    assert.equal(err.line, e.line);
  }
  if (e.match) assert.match(msg, e.match);
  return err;
}

/** Asserts that two panels hold the same data (values bit-exact at float32, names, roles, units, context, truth, time axis). */
export function assertSamePanel(actual: Panel, expected: Panel): void {
  assert.equal(actual.units, expected.units);
  assert.equal(actual.steps, expected.steps);
  assert.equal(actual.nodes, expected.nodes);
  assert.deepEqual(actual.nodeNames, expected.nodeNames);
  assert.deepEqual(actual.roles, expected.roles);
  assert.deepEqual(actual.unitIds, expected.unitIds);
  assert.deepEqual(actual.timeLabels, expected.timeLabels);
  assert.ok(actual.values instanceof Float32Array);
  assert.deepEqual(actual.values, expected.values);
  assert.deepEqual(actual.context, expected.context);
  assert.deepEqual(actual.truth, expected.truth);
}

export interface SpendProfile {
  /** Cells with zero spend. */
  zeros: number;
  /** Runs of at least `zeroRun` zero steps (off periods). */
  zeroRuns: number;
  /** Series whose largest spend exceeds 2.5 times the median of its non-zero spend. */
  bursty: number;
}

/**
 * Counts over the first `channels` nodes of every unit, asserting that spend is non-negative.
 * A series with `minOn` or fewer non-zero steps is not judged for bursts.
 */
export function spendProfile(panel: Panel, channels: number, opts: { zeroRun: number; minOn?: number }): SpendProfile {
  const out = { zeros: 0, zeroRuns: 0, bursty: 0 };
  for (let u = 0; u < panel.units; u++) {
    for (let j = 0; j < channels; j++) {
      const s = nodeSeries(panel, u, j);
      assert.ok(s.every((v) => v >= 0));
      out.zeros += s.filter((v) => v === 0).length;
      let run = 0;
      for (const v of s) {
        run = v === 0 ? run + 1 : 0;
        if (run === opts.zeroRun) out.zeroRuns++;
      }
      const on = s.filter((v) => v > 0).sort((a, b) => a - b);
      if (on.length > (opts.minOn ?? 0) && on[on.length - 1] > 2.5 * on[Math.floor(on.length / 2)]) out.bursty++;
    }
  }
  return out;
}
