#!/usr/bin/env node
// Makes the compiled library importable by its package name, `graph-mmm`, from notebooks:
// writes build/lib/package.json and links node_modules/graph-mmm -> build/lib.
// (tslab compiles a notebook with the notebook's folder as its root, so `../lib/*.ts` cannot be
// imported; Node resolves a package's "main" against the link's own path, so the link must
// point at the folder that holds the compiled files.)
import { lstatSync, mkdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname, "..");
const pkg = { name: "graph-mmm", version: "0.1.0", private: true, main: "index.js", types: "index.d.ts" };
writeFileSync(join(root, "build", "lib", "package.json"), JSON.stringify(pkg, null, 2) + "\n");
const link = join(root, "node_modules", "graph-mmm");
const target = join("..", "build", "lib");
let current;
try {
  current = lstatSync(link).isSymbolicLink() ? readlinkSync(link) : "not a link";
} catch {
  current = undefined;
}
if (current !== target) {
  if (current !== undefined) rmSync(link, { recursive: true, force: true });
  mkdirSync(join(root, "node_modules"), { recursive: true });
  symlinkSync(target, link, "dir");
}
