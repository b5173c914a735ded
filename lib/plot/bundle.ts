/**
 * The Plotly browser bundle, read from node_modules (no CDN) and minified once with esbuild
 * into `build/vendor/`, so that notebooks that inline it stay small.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../study";

let cached: string | undefined;

/** The minified Plotly bundle source. */
export function plotlyBundle(): string {
  if (cached) return cached;
  const pkg = JSON.parse(readFileSync(require.resolve("plotly.js-dist/package.json"), "utf8")) as { version: string };
  const dir = join(REPO_ROOT, "build", "vendor");
  const file = join(dir, `plotly-${pkg.version}.min.js`);
  if (!existsSync(file)) {
    const src = readFileSync(require.resolve("plotly.js-dist/plotly.js"), "utf8");
    // esbuild is loaded lazily: only the first figure of a fresh checkout needs it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const esbuild = require("esbuild") as typeof import("esbuild");
    const { code } = esbuild.transformSync(src, { minify: true, legalComments: "eof" });
    mkdirSync(dir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, code);
    renameSync(tmp, file);
  }
  cached = readFileSync(file, "utf8");
  return cached;
}
