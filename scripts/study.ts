/**
 * `npm run study [-- --scale smoke|paper] [--only 00,02]`: executes the study's notebooks in
 * order at a scale and writes their figures (paper: `figures/`; smoke: `build/smoke/figures/`),
 * then the folder's index (`README.md`: each figure with its caption and notebook, each table).
 */
import { writeFiguresIndex } from "../lib/runner/figure-index";
import { figuresDir, parseScale } from "../lib/study";
import { NotebookError, runNotebooks } from "./notebooks";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const scale = parseScale(arg("scale") ?? process.env.STUDY_SCALE, "paper");
  const only = arg("only")?.split(",").filter(Boolean) ?? [];
  const started = Date.now();
  const runs = await runNotebooks({ scale, only });
  const total = (Date.now() - started) / 1000;
  const index = writeFiguresIndex(figuresDir(scale));
  for (const r of runs) process.stdout.write(`${r.notebook.padEnd(28)} ${r.seconds.toFixed(1).padStart(8)} s\n`);
  process.stdout.write(`study (${scale}): ${runs.length} notebooks in ${total.toFixed(1)} s\n`);
  process.stdout.write(`index of ${index.listing.figures.length} figures and ${index.listing.tables.length} tables: ${index.file}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof NotebookError ? err.message : (err as Error).stack}\n`);
  process.exit(1);
});
