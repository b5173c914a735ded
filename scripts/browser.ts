/**
 * Runs a notebook the way a person does: opened in the classic Notebook UI in headless Chromium,
 * every cell executed through the UI (`Jupyter.notebook.execute_all_cells()`), then read back
 * from the page: error outputs, a dead kernel, drawn figures and rendered tables. Autosave is
 * switched off first, so the executed notebook is never saved over its source. Used by the
 * browser tests; the UI server comes from scripts/lab.ts.
 */
import type { Browser, Page } from "playwright-core";

export interface BrowserRun {
  /** Code cells, and how many of them finished with an execution count. */
  codeCells: number;
  executed: number;
  /** Text of error outputs (error messages and stderr streams), one entry per output. */
  errors: string[];
  /** True when the kernel died or restarted while the cells ran. */
  kernelDied: boolean;
  /** Figures published by the study's `show` (one per figure) and those Plotly drew (an SVG). */
  figures: number;
  drawnFigures: number;
  /** HTML tables rendered in outputs, and the study's result tables among them. */
  tables: number;
  resultTables: number;
  /** Lines of text printed by stdout streams. */
  stdoutLines: number;
  seconds: number;
}

interface JupyterWindow {
  Jupyter?: {
    notebook?: {
      kernel?: { is_connected(): boolean } | null;
      events: { on(name: string, f: () => void): void };
      execute_all_cells(): void;
      set_autosave_interval(ms: number): void;
      get_cells(): { cell_type: string; input_prompt_number?: number | string | null }[];
    };
  };
  __graphMmmKernelDied?: boolean;
}

/** Opens `url` (a notebook of the classic UI), runs all its cells, and reports what the page shows. */
export async function runNotebookInBrowser(browser: Browser, url: string, opts: { timeoutMs?: number; screenshot?: string } = {}): Promise<BrowserRun> {
  const timeout = opts.timeoutMs ?? 15 * 60_000;
  const started = Date.now();
  const page: Page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  try {
    await page.goto(url, { waitUntil: "load", timeout: 60_000 });
    await page.waitForFunction(
      () => {
        const nb = (window as unknown as JupyterWindow).Jupyter?.notebook;
        return !!nb?.kernel && nb.kernel.is_connected();
      },
      undefined,
      { timeout: 120_000, polling: 250 },
    );
    await page.evaluate(() => {
      const w = window as unknown as JupyterWindow;
      // never save the executed notebook over its source
      w.Jupyter!.notebook!.set_autosave_interval(0);
      w.__graphMmmKernelDied = false;
      w.Jupyter!.notebook!.events.on("kernel_dead.Kernel", () => (w.__graphMmmKernelDied = true));
      w.Jupyter!.notebook!.events.on("kernel_restarting.Kernel", () => (w.__graphMmmKernelDied = true));
      w.Jupyter!.notebook!.execute_all_cells();
    });
    // done: every code cell has its number (not "*" and not empty) and the kernel shows idle
    await page.waitForFunction(
      () => {
        const w = window as unknown as JupyterWindow;
        if (w.__graphMmmKernelDied) return true;
        const cells = w.Jupyter!.notebook!.get_cells().filter((c) => c.cell_type === "code");
        const idle = document.querySelector("#kernel_indicator_icon.kernel_idle_icon") !== null;
        return idle && cells.every((c) => typeof c.input_prompt_number === "number");
      },
      undefined,
      { timeout, polling: 500 },
    );
    // let Plotly finish drawing the last figure
    await page.waitForTimeout(500);
    const seen = await page.evaluate(() => {
      const w = window as unknown as JupyterWindow;
      const cells = w.Jupyter!.notebook!.get_cells().filter((c) => c.cell_type === "code");
      const figs = Array.from(document.querySelectorAll("div[id^='graph-mmm-fig-']"));
      const text = (sel: string) => Array.from(document.querySelectorAll(sel)).map((e) => (e.textContent ?? "").trim());
      return {
        codeCells: cells.length,
        executed: cells.filter((c) => typeof c.input_prompt_number === "number").length,
        errors: [...text(".output_area .output_error"), ...text(".output_area .output_stderr")],
        kernelDied: !!w.__graphMmmKernelDied,
        figures: figs.length,
        drawnFigures: figs.filter((f) => f.querySelector("svg.main-svg") !== null).length,
        tables: document.querySelectorAll(".output_html table").length,
        resultTables: document.querySelectorAll(".output_html .graph-mmm-table table").length,
        stdoutLines: text(".output_area .output_stdout")
          .join("\n")
          .split("\n")
          .filter((l) => l !== "").length,
      };
    });
    if (opts.screenshot) await page.screenshot({ path: opts.screenshot, fullPage: false });
    return { ...seen, seconds: (Date.now() - started) / 1000 };
  } finally {
    await page.close();
  }
}
