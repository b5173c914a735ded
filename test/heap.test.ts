/** lib/heap.ts: the semi-space flag, and that every entry point that trains sets it. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { SEMI_SPACE_FLAG, SEMI_SPACE_MB, WORKER_YOUNG_GENERATION_MB, withSemiSpace } from "../lib/heap";
import { REPO_ROOT } from "../lib/study";

describe("withSemiSpace", () => {
  it("adds the flag to flags without one and keeps the others in order", () => {
    assert.deepEqual(withSemiSpace([]), [`--max-semi-space-size=${SEMI_SPACE_MB}`]);
    assert.deepEqual(withSemiSpace(["--enable-source-maps"]), ["--enable-source-maps", SEMI_SPACE_FLAG]);
  });

  it("leaves a semi-space someone chose", () => {
    assert.deepEqual(withSemiSpace(["--max-semi-space-size=8", "--x"]), ["--max-semi-space-size=8", "--x"]);
  });

  it("a worker thread's young generation is three semi-spaces", () => {
    assert.equal(WORKER_YOUNG_GENERATION_MB, 3 * SEMI_SPACE_MB);
  });
});

describe("entry points that train", () => {
  it("npm run bench and diagnose, which train in their own process, start Node with the flag", () => {
    const scripts = (JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
    for (const name of ["bench", "diagnose"]) {
      assert.match(scripts[name], new RegExp(`node ${SEMI_SPACE_FLAG} build/scripts/${name}\\.js$`), `npm run ${name}: ${scripts[name]}`);
    }
  });

  it("the notebook kernel that set-up registers starts Node with the flag", () => {
    const setup = readFileSync(join(REPO_ROOT, "scripts", "setup.mjs"), "utf8");
    const argv = /argv: \[process\.execPath, ([^\]]*)\]/.exec(setup);
    assert.ok(argv, "setup.mjs writes the kernel's argv");
    assert.ok(argv[1].includes(`"${SEMI_SPACE_FLAG}"`), `kernel argv: ${argv[1]}`);
  });
});
