#!/usr/bin/env node
// Runs the compiled tests (build/test/**/*.test.js) with node's test runner.
// `npm test -- data diagnostics` runs only the test files whose path contains one of the words.
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { spawnSync } from "node:child_process";

const root = join(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..");
const dir = join(root, "build", "test");
const walk = (d) =>
  readdirSync(d).flatMap((f) => {
    const p = join(d, f);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith(".test.js") ? [p] : [];
  });
const filters = process.argv.slice(2);
const files = walk(dir)
  .filter((f) => filters.length === 0 || filters.some((w) => relative(dir, f).includes(w)))
  .sort();
if (files.length === 0) {
  console.error(`no test files match ${filters.join(", ") || "build/test/**/*.test.js"}`);
  process.exit(1);
}
// the tests run their jobs here (the queue's test starts its own Redis): a STUDY_QUEUE of the caller's shell is not theirs
const env = { ...process.env, STUDY_QUEUE: "" };
const r = spawnSync(process.execPath, ["--test", "--test-reporter=spec", "--test-concurrency=1", ...files], { stdio: "inherit", cwd: root, env });
process.exit(r.status ?? 1);
