import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import * as aq from "arquero";
import { NOTEBOOK_ENV, writeSidecar } from "../../lib/outputs";
import { lineChart } from "../../lib/plot/figure";
import { closeRenderer, exportFigure } from "../../lib/plot/render";
import { csvShape, listOutputs, writeFiguresIndex } from "../../lib/runner/figure-index";
import { writeTable } from "../../lib/tables";

describe("figures index", () => {
  const root = mkdtempSync(join(tmpdir(), "graph-mmm-index-"));
  after(async () => {
    await closeRenderer();
    rmSync(root, { recursive: true, force: true });
  });

  it("lists figures with caption and notebook, and tables with columns and rows", () => {
    const dir = join(root, "fake");
    const saved = process.env[NOTEBOOK_ENV];
    try {
      process.env[NOTEBOOK_ENV] = "02-causalmmm.ipynb";
      mkdirSync(dir, { recursive: true });
      for (const f of ["02-drift.png", "02-drift.svg", "01-graphs.svg", "01-graphs.png", "03-orphan.png", "notes.txt"]) writeFileSync(join(dir, f), "x");
      writeFileSync(join(dir, "bypass.csv"), 'decoder,"MSE, target",note\noracle,0.1,"two\nlines"\nno-graph,0.2,x\n');
      writeSidecar(dir, "figure", "02-drift", "Drift of the | learned graph\nover epochs.");
      writeSidecar(dir, "table", "bypass");
      delete process.env[NOTEBOOK_ENV];
      writeSidecar(dir, "figure", "01-graphs", "True graphs.");
    } finally {
      if (saved === undefined) delete process.env[NOTEBOOK_ENV];
      else process.env[NOTEBOOK_ENV] = saved;
    }
    const listing = listOutputs(dir);
    assert.deepEqual(
      listing.figures.map((f) => [f.name, f.files, f.caption, f.notebook]),
      [
        ["01-graphs", ["01-graphs.png", "01-graphs.svg"], "True graphs.", null],
        ["02-drift", ["02-drift.png", "02-drift.svg"], "Drift of the | learned graph\nover epochs.", "02-causalmmm.ipynb"],
        ["03-orphan", ["03-orphan.png"], null, null],
      ],
    );
    assert.deepEqual(
      listing.tables.map((t) => [t.name, t.columns, t.rows, t.notebook]),
      [["bypass", ["decoder", "MSE, target", "note"], 2, "02-causalmmm.ipynb"]],
    );

    const { file } = writeFiguresIndex(dir);
    const md = readFileSync(file, "utf8");
    assert.equal(file, join(dir, "README.md"));
    assert.match(md, /^# Figures\n/);
    assert.match(md, /\| \[01-graphs\]\(01-graphs\.png\) · \[svg\]\(01-graphs\.svg\) \| True graphs\. \| \? \|/);
    assert.match(
      md,
      /\| \[02-drift\]\(02-drift\.png\) · \[svg\]\(02-drift\.svg\) \| Drift of the \\\| learned graph over epochs\. \| `02-causalmmm\.ipynb` \|/,
    );
    assert.match(md, /\| \[03-orphan\]\(03-orphan\.png\) \| \*\(no caption recorded\)\* \| \? \|/);
    assert.match(
      md,
      /## Tables \(1\)\n\n\| table \| columns \| rows \| notebook \|\n\|---\|---\|---\|---\|\n\| \[bypass\]\(bypass\.csv\) \| `decoder`, `MSE, target`, `note` \| 2 \| `02-causalmmm\.ipynb` \|/,
    );
    assert.doesNotMatch(md, /notes\.txt|\.json/);
    assert.ok(md.indexOf("01-graphs") < md.indexOf("02-drift"), "sorted by name");
    writeFiguresIndex(dir);
    assert.equal(readFileSync(file, "utf8"), md, "no dates: an unchanged folder gives the same index");
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.endsWith(".tmp")),
      [],
      "written atomically, no temporary file left",
    );
  });

  it("an empty or missing folder gives an index that says so", () => {
    const { file, listing } = writeFiguresIndex(join(root, "empty"));
    assert.deepEqual(listing, { figures: [], tables: [] });
    assert.match(readFileSync(file, "utf8"), /## Figures \(0\)\n\nNone yet\./);
  });

  it("exportFigure and writeTable record caption and notebook (STUDY_NOTEBOOK) for the index", async () => {
    const dir = join(root, "real");
    const saved = process.env[NOTEBOOK_ENV];
    process.env[NOTEBOOK_ENV] = "07-test.ipynb";
    try {
      const out = await exportFigure(lineChart({ name: "07-line", caption: "A test line.", x: [0, 1, 2], series: [{ name: "a", y: [1, 2, 1] }] }), dir);
      assert.equal(out.sidecar, join(dir, "07-line.figure.json"));
      const meta = JSON.parse(readFileSync(out.sidecar, "utf8"));
      assert.equal(meta.caption, "A test line.");
      assert.equal(meta.notebook, "07-test.ipynb");
      assert.ok(!Number.isNaN(Date.parse(meta.created)));
      writeTable("07-table", aq.table({ model: ["a", "b", "c"], mse: [0.1, NaN, 0.3] }), dir);
    } finally {
      if (saved === undefined) delete process.env[NOTEBOOK_ENV];
      else process.env[NOTEBOOK_ENV] = saved;
    }
    const md = readFileSync(writeFiguresIndex(dir).file, "utf8");
    assert.match(md, /\| \[07-line\]\(07-line\.png\) · \[svg\]\(07-line\.svg\) \| A test line\. \| `07-test\.ipynb` \|/);
    assert.match(md, /\| \[07-table\]\(07-table\.csv\) \| `model`, `mse` \| 3 \| `07-test\.ipynb` \|/);
  });

  it("csvShape counts records, not lines", () => {
    assert.deepEqual(csvShape('a,"b ""q"", c"\r\n1,"x\ny"\r\n2,z'), { columns: ["a", 'b "q", c'], rows: 2 });
    assert.deepEqual(csvShape(""), { columns: [], rows: 0 });
    assert.deepEqual(csvShape("a,b\n"), { columns: ["a", "b"], rows: 0 });
  });
});
