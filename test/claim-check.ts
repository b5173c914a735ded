/**
 * Checks a notebook's printed claim verdicts against the numbers printed beside them, without
 * the library's code: each check line "- what: value (<= b | >= b | well below/above ... (gap >= g)):
 * **holds|does not hold**" must agree with its value, and a claim's verdict with its measured
 * lines (those not marked "by construction").
 */
import assert from "node:assert/strict";

interface Line {
  text: string;
  value: number;
  holds: boolean;
  byConstruction: boolean;
}

const LINE = /^- (.+): (n\/a|-?\d+\.\d+) \((.+)\): \*\*(holds|does not hold)\*\*( \(by construction: .+\))?$/;

/** Whether a printed check holds by its own value and bound (`previous`: the line before, for gap bounds). */
function recompute(bound: string, value: number, previous: Line | undefined, text: string): boolean {
  let m = /^(<=|>=) (-?\d+\.\d+)$/.exec(bound);
  if (m) return m[1] === "<=" ? value <= Number(m[2]) : value >= Number(m[2]);
  m = /^well (below|above) .+\(gap >= (\d+\.\d+)\)$/.exec(bound);
  assert.ok(m, `unreadable bound "${bound}" in: ${text}`);
  assert.ok(previous, `a gap bound needs the line before it: ${text}`);
  const gap = m[1] === "below" ? previous.value - value : value - previous.value;
  // the printed values are rounded to 3 decimals: allow the rounding
  return gap >= Number(m[2]) - 1e-3;
}

/** Checks every "**Claim N verdict**" block of a notebook's Markdown output; returns the number of blocks checked. */
export function checkClaimBlocks(markdown: string): number {
  const lines = markdown.split("\n");
  let blocks = 0;
  for (let k = 0; k < lines.length; k++) {
    const head = /^\*\*Claim (\d+) (holds|holds in part|does not hold|was not measured)\*\*/.exec(lines[k]);
    if (!head) continue;
    const checks: Line[] = [];
    for (let n = k + 1; n < lines.length && lines[n].startsWith("- "); n++) {
      const m = LINE.exec(lines[n]);
      assert.ok(m, `claim ${head[1]}: unreadable check line: ${lines[n]}`);
      const value = m[2] === "n/a" ? NaN : Number(m[2]);
      const line: Line = { text: lines[n], value, holds: m[4] === "holds", byConstruction: m[5] !== undefined };
      if (!Number.isNaN(value)) {
        const holds = recompute(m[3], value, checks[checks.length - 1], lines[n]);
        // a value within rounding of its bound may print either way
        const edge = /(-?\d+\.\d+)\)?$/.exec(m[3]);
        const nearBound = edge !== null && Math.abs(Math.abs(value) - Math.abs(Number(edge[1]))) < 1e-3;
        if (!nearBound) assert.equal(line.holds, holds, `claim ${head[1]}: the check disagrees with its own number: ${lines[n]}`);
      }
      checks.push(line);
    }
    if (checks.length === 0) continue;
    const measured = checks.filter((c) => !c.byConstruction);
    const verdict =
      measured.length === 0 ? "was not measured" : measured.every((c) => c.holds) ? "holds" : measured.some((c) => c.holds) ? "holds in part" : "does not hold";
    assert.equal(head[2], verdict, `claim ${head[1]}: the verdict "${head[2]}" disagrees with its measured checks (${verdict})`);
    blocks++;
  }
  return blocks;
}
