/**
 * The library's layers (lib/README.md) as the imports have them: a module imports only from its
 * own folder, the folders below it, and the top-level helpers. Read from the TypeScript sources.
 */
import assert from "node:assert/strict";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, it } from "node:test";
import { REPO_ROOT } from "../lib/study";

/** Bottom to top. A folder may import from any folder before it in this list. */
const LAYERS = ["core", "data", "models", "train", "diagnostics", "plot", "analysis", "runner", "experiments"];

const LIB = join(REPO_ROOT, "lib");
const walk = (d: string): string[] =>
  readdirSync(d).flatMap((f) => {
    const p = join(d, f);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith(".ts") ? [p] : [];
  });

/** The lib folder of a file ("" for the top-level helpers). */
const folderOf = (file: string) => {
  const rel = relative(LIB, file).split("/");
  return rel.length > 1 ? rel[0] : "";
};

function imports(file: string): string[] {
  const src = readFileSync(file, "utf8");
  const out: string[] = [];
  for (const m of src.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+"(\.[^"]+)"/gm)) out.push(m[1]);
  return out;
}

/** The imports of `file` (its relative specifiers) that do not run down the layers. */
function violations(file: string, specs: readonly string[]): string[] {
  const from = folderOf(file);
  if (from === "") return []; // index.ts and the helpers
  const wrong: string[] = [];
  for (const spec of specs) {
    const to = folderOf(resolve(dirname(file), spec) + ".ts");
    if (to === "" || to === from) continue;
    if (LAYERS.indexOf(to) < 0 || LAYERS.indexOf(from) < 0) wrong.push(`${relative(LIB, file)} -> ${spec} (folder not in the layer list)`);
    else if (LAYERS.indexOf(to) > LAYERS.indexOf(from)) wrong.push(`${relative(LIB, file)} -> ${spec} (${from} imports ${to}, which is above it)`);
  }
  return wrong;
}

describe("library layers", () => {
  const files = walk(LIB);

  it("reads the library's modules", () => {
    assert.ok(files.length > 50, `${files.length} modules`);
  });

  it("every import runs down the layers (or to a top-level helper)", () => {
    assert.deepEqual(
      files.flatMap((f) => violations(f, imports(f))),
      [],
    );
  });

  it("the check reports an upward import and accepts downward and sibling ones", () => {
    const file = join(LIB, "models", "example.ts");
    assert.equal(violations(file, ["../train/fit"]).length, 1);
    assert.equal(violations(file, ["../diagnostics/influence"]).length, 1);
    assert.deepEqual(violations(file, ["../core/forecaster", "../data/panel", "./params", "../tf"]), []);
    assert.equal(violations(join(LIB, "core", "x.ts"), ["../models/params"]).length, 1);
  });
});
