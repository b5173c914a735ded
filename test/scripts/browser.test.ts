/**
 * The notebooks as a person runs them: `npm run lab`'s server (scripts/lab.ts) with the
 * checkout's kernel, notebooks opened in headless Chromium and every cell run through the UI
 * (scripts/browser.ts). No error output, no dead kernel, every figure drawn by Plotly, result
 * tables rendered as HTML tables, and all of a long printout delivered. The server is stopped at
 * the end, whatever happens.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser } from "playwright-core";
import { launchChromium } from "../../lib/plot/render";
import { REPO_ROOT } from "../../lib/study";
import { runNotebookInBrowser } from "../../scripts/browser";
import { type NotebookServer, startNotebookServer } from "../../scripts/lab";
import { environment } from "../../scripts/notebooks";

const ui = environment().ui;
// The driver speaks the classic Notebook's page API; setup installs that UI where it can.
const skip =
  ui?.kind === "notebook"
    ? false
    : `the browser tests drive the classic Notebook UI, and this machine has ${ui ? "JupyterLab only" : "no notebook UI"} (see scripts/setup.mjs)`;
if (skip) process.stdout.write(`# skipping test/scripts/browser.test.ts: ${skip}\n`);

describe("notebooks run through the notebook UI in a browser", { skip }, () => {
  let server: NotebookServer | undefined;
  let browser: Browser | undefined;
  const scratch = mkdtempSync(join(tmpdir(), "graph-mmm-browser-"));
  // a generated notebook lives under build/ so that its kernel resolves the `graph-mmm` package
  const generated = join(REPO_ROOT, "build", "test-browser");

  before(async () => {
    server = await startNotebookServer({ root: REPO_ROOT, scale: "smoke", figuresDir: join(scratch, "figures") });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close().catch(() => {});
    await server?.stop();
    rmSync(scratch, { recursive: true, force: true });
    rmSync(generated, { recursive: true, force: true });
  });

  it("00-tour: every cell runs, its figure is drawn, no error", { timeout: 5 * 60_000 }, async () => {
    const run = await runNotebookInBrowser(browser!, server!.notebookUrl("notebooks/00-tour.ipynb"), { screenshot: join(scratch, "00.png") });
    assert.equal(run.kernelDied, false);
    assert.deepEqual(run.errors, []);
    assert.equal(run.executed, run.codeCells);
    assert.equal(run.figures, 1);
    assert.equal(run.drawnFigures, run.figures, "Plotly drew every figure");
  });

  it("04-bypass (training, several figures, a result table): every cell runs, every figure is drawn, the table is HTML", { timeout: 20 * 60_000 }, async () => {
    const run = await runNotebookInBrowser(browser!, server!.notebookUrl("notebooks/04-bypass.ipynb"));
    assert.equal(run.kernelDied, false);
    assert.deepEqual(run.errors, []);
    assert.equal(run.executed, run.codeCells);
    assert.ok(run.figures >= 2, `04 shows its figures (${run.figures})`);
    assert.equal(run.drawnFigures, run.figures, "Plotly drew every figure");
    assert.ok(run.resultTables >= 1, "the bypass table is an HTML table");
  });

  it("a cell printing 600 lines shows all 600 in the page and the kernel goes idle", { timeout: 5 * 60_000 }, async () => {
    mkdirSync(generated, { recursive: true });
    const cell = (source: string) => ({ cell_type: "code", execution_count: null, metadata: {}, outputs: [], source });
    writeFileSync(
      join(generated, "lines.ipynb"),
      JSON.stringify({
        nbformat: 4,
        nbformat_minor: 5,
        metadata: { kernelspec: { name: "tslab", display_name: "TypeScript", language: "typescript" } },
        cells: [cell("for (let i = 0; i < 600; i++) console.log(`line ${i}`);"), cell("console.log('done');")],
      }),
    );
    const run = await runNotebookInBrowser(browser!, server!.notebookUrl("build/test-browser/lines.ipynb"));
    assert.equal(run.kernelDied, false);
    assert.equal(run.executed, 2);
    assert.equal(run.stdoutLines, 601);
  });
});
