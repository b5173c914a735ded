/**
 * Static rendering of figures in headless Chromium (Debian's `chromium`, driven by
 * playwright-core): PNG at the figure's exact pixel size and SVG, through Plotly's own
 * `toImage`. One browser page serves every figure of a process; it closes itself after a
 * minute without work (or call {@link closeRenderer}).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { writeSidecar } from "../outputs";
import { REPO_ROOT, figuresDir } from "../study";
import { plotlyBundle } from "./bundle";
import type { Figure } from "./figure";

/** Flags for a closed network (see the README): no background traffic, no sandbox as root. */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

/** The Chromium executable: CHROMIUM_PATH, the one setup recorded, or a Debian path. */
export function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH];
  const envFile = join(REPO_ROOT, "build", "environment.json");
  if (existsSync(envFile)) candidates.push((JSON.parse(readFileSync(envFile, "utf8")) as { chromium?: string }).chromium);
  candidates.push("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome");
  const found = candidates.find((p): p is string => !!p && existsSync(p));
  if (!found) throw new Error("no Chromium found for figure export: run `node scripts/setup.mjs` (installs Debian's chromium) or set CHROMIUM_PATH");
  return found;
}

/** Launches the study's headless Chromium (callers close it). */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import("playwright-core");
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: CHROMIUM_ARGS });
}

let browser: Promise<Browser> | undefined;
let page: Promise<Page> | undefined;
let idleTimer: NodeJS.Timeout | undefined;
const IDLE_MS = 60_000;

async function plotPage(): Promise<Page> {
  if (!page) {
    browser = launchChromium();
    page = browser.then(async (b) => {
      const p = await b.newPage();
      await p.setContent("<!doctype html><html><body style='margin:0'><div id='gd'></div></body></html>");
      await p.addScriptTag({ content: plotlyBundle() });
      return p;
    });
  }
  return page;
}

/** Closes the renderer's browser (scripts call it before exiting; notebooks need not). */
export async function closeRenderer(): Promise<void> {
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = undefined;
  const b = browser;
  browser = undefined;
  page = undefined;
  if (b) await (await b).close();
}

/** A rendered figure. */
export interface RenderedFigure {
  /** PNG bytes, `width x height` pixels. */
  png: Buffer;
  /** SVG document. */
  svg: string;
}

/** Renders a figure to PNG and SVG in headless Chromium. */
export async function renderFigure(fig: Figure): Promise<RenderedFigure> {
  if (idleTimer) clearTimeout(idleTimer);
  const p = await plotPage();
  try {
    const out = await p.evaluate(
      async ({ data, layout, width, height }) => {
        // Runs in the browser, where the bundle defined Plotly.
        const P = (globalThis as unknown as { Plotly: any }).Plotly;
        const gd = document.getElementById("gd") as HTMLElement;
        await P.newPlot(gd, data, layout, { staticPlot: true });
        const png: string = await P.toImage(gd, { format: "png", width, height, scale: 1 });
        const svg: string = await P.toImage(gd, { format: "svg", width, height, scale: 1 });
        P.purge(gd);
        return { png, svg };
      },
      { data: fig.data, layout: fig.layout, width: fig.width, height: fig.height },
    );
    return {
      png: Buffer.from(out.png.slice(out.png.indexOf(",") + 1), "base64"),
      svg: decodeURIComponent(out.svg.slice(out.svg.indexOf(",") + 1)),
    };
  } finally {
    idleTimer = setTimeout(() => void closeRenderer(), IDLE_MS);
    idleTimer.unref();
  }
}

/** Paths of an exported figure. */
export interface ExportedFigure {
  png: string;
  svg: string;
  /** `<name>.figure.json`: caption and notebook, for the figures index. */
  sidecar: string;
  rendered: RenderedFigure;
}

/**
 * Renders and writes `<dir>/<name>.png` and `.svg` (atomically), and the sidecar
 * `<name>.figure.json` (caption, notebook); `dir` defaults to the scale's figures folder.
 */
export async function exportFigure(fig: Figure, dir: string = figuresDir()): Promise<ExportedFigure> {
  const rendered = await renderFigure(fig);
  mkdirSync(dir, { recursive: true });
  const write = (file: string, content: Buffer | string) => {
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, content);
    renameSync(tmp, file);
  };
  const png = join(dir, `${fig.name}.png`);
  const svg = join(dir, `${fig.name}.svg`);
  write(png, rendered.png);
  write(svg, rendered.svg);
  const sidecar = writeSidecar(dir, "figure", fig.name, fig.caption);
  return { png, svg, sidecar, rendered };
}

/** Width and height of a PNG, read from its IHDR chunk. */
export function pngSize(png: Buffer): { width: number; height: number } {
  const signature = "89504e470d0a1a0a";
  if (png.length < 24 || png.subarray(0, 8).toString("hex") !== signature) throw new Error("not a PNG file");
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}
