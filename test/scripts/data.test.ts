/**
 * `npm run data` (scripts/data.mjs), run as a separate process against a local HTTP server on
 * 127.0.0.1 and temporary folders (never the repository's data/): download with checksums, a
 * corrupted download or mirror rejected with nothing written, the mirror preferred over the
 * network, the offline message, and nothing done when the files are already there.
 *
 * The server serves the real files, read from the repository's data/causalmmm-sim/, which
 * `npm test` fills (through `npm run data`) before the tests run.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { REPO_ROOT } from "../../lib/study";

const SCRIPT = join(REPO_ROOT, "scripts", "data.mjs");
const REAL = join(REPO_ROOT, "data", "causalmmm-sim");
const SHA256: Record<string, string> = {
  "shuffled_data.npy": "2b692ea8f004bc48f955697a3a571bf4950cad85cb722d18086059d911b626fd",
  "shuffled_context.npy": "a7671b207ada84846603c5485cc0f1c21ae9ebf596acb9b8a324169e488ac84e",
  "shuffled_edges.npy": "ac3d7ddb574a58e0751f10f6dc16e35e7fe8752c3f688f3630858d9a0c33d24d",
};
const NAMES = Object.keys(SHA256);

const sha256 = (buf: Buffer) => createHash("sha256").update(buf).digest("hex");
const made: string[] = [];
/** A fresh temporary folder, removed after the tests. */
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), "graph-mmm-fetch-"));
  made.push(d);
  return d;
};
const lines = (text: string) => text.split(/\r?\n/).filter((l) => l.trim() !== "");
/** Everything in a target data folder's causalmmm-sim/, temporary files included. */
const contents = (dataDir: string) => (existsSync(join(dataDir, "causalmmm-sim")) ? readdirSync(join(dataDir, "causalmmm-sim")).sort() : []);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs scripts/data.mjs with `env` added to an environment cleared of every GRAPH_MMM_DATA_ variable. */
function runData(env: Record<string, string>): Promise<Run> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("GRAPH_MMM_DATA_")));
  return new Promise((resolvePromise, reject) => {
    // Asynchronous: the HTTP server answering the child lives in this process.
    const child = spawn(process.execPath, [SCRIPT], { env: { ...base, ...env }, stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolvePromise({ code, stdout, stderr }));
  });
}

/** A server on 127.0.0.1 serving `files` under /sim/, recording the paths asked for. */
async function serve(files: Record<string, Buffer>): Promise<{ url: string; requests: string[]; server: Server }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? "");
    const name = (req.url ?? "").replace(/^\/sim\//, "");
    const body = files[name];
    if (!req.url?.startsWith("/sim/") || body === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": body.length }).end(body);
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/sim`, requests, server };
}

const close = (server: Server) => new Promise<void>((ok) => server.close(() => ok()));

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((ok) => s.listen(0, "127.0.0.1", ok));
  const port = (s.address() as AddressInfo).port;
  await close(s);
  return port;
}

/** Copies the real files into `dir`. */
function placeReal(dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const f of NAMES) copyFileSync(join(REAL, f), join(dir, f));
}

function assertPlaced(dataDir: string): void {
  assert.deepEqual(contents(dataDir), [...NAMES].sort(), "exactly the three files, no temporary file");
  for (const f of NAMES) assert.equal(sha256(readFileSync(join(dataDir, "causalmmm-sim", f))), SHA256[f], `${f} checksum`);
}

describe("scripts/data.mjs (npm run data)", () => {
  const real: Record<string, Buffer> = {};

  before(() => {
    for (const f of NAMES) {
      const p = join(REAL, f);
      if (!existsSync(p)) throw new Error(`${p} is missing: run \`npm run data\` before these tests (npm test does)`);
      real[f] = readFileSync(p);
      assert.equal(sha256(real[f]), SHA256[f], `${p} has the pinned checksum`);
    }
  });
  after(() => {
    for (const d of made) rmSync(d, { recursive: true, force: true });
  });

  describe("downloads", () => {
    let srv: Awaited<ReturnType<typeof serve>>;
    before(async () => (srv = await serve(real)));
    after(() => close(srv.server));

    it("into an empty folder: the three files, with their checksums", async () => {
      const dataDir = tempDir();
      srv.requests.length = 0;
      const r = await runData({ GRAPH_MMM_DATA_DIR: dataDir, GRAPH_MMM_DATA_MIRROR: "none", GRAPH_MMM_DATA_URL: srv.url });
      assert.equal(r.code, 0, r.stderr);
      assertPlaced(dataDir);
      assert.deepEqual([...srv.requests].sort(), NAMES.map((f) => `/sim/${f}`).sort());
      assert.equal(lines(r.stderr).length, 3, "one line per file placed");
      for (const f of NAMES) assert.ok(r.stderr.includes(`${srv.url}/${f}`), `names where ${f} came from`);
    });
  });

  it("rejects a corrupted download: exit 1, one line naming the file and the checksum, nothing written", async () => {
    const bad = Buffer.from(real["shuffled_edges.npy"]);
    bad[bad.length - 1] ^= 1;
    const srv = await serve({ ...real, "shuffled_edges.npy": bad });
    try {
      const dataDir = tempDir();
      const r = await runData({ GRAPH_MMM_DATA_DIR: dataDir, GRAPH_MMM_DATA_MIRROR: "none", GRAPH_MMM_DATA_URL: srv.url });
      assert.equal(r.code, 1);
      assert.equal(lines(r.stderr).length, 1, r.stderr);
      assert.match(r.stderr, /shuffled_edges\.npy has SHA-256 [0-9a-f]{64}, expected ac3d7ddb.*rejected/);
      assert.deepEqual(contents(dataDir), [], "the two good files are not written either, nor any temporary file");
    } finally {
      await close(srv.server);
    }
  });

  it("prefers a mirror (a folder with a causalmmm-sim/ subfolder): the server receives no request", async () => {
    const srv = await serve(real);
    try {
      const mirror = tempDir();
      placeReal(join(mirror, "causalmmm-sim"));
      const dataDir = tempDir();
      const r = await runData({ GRAPH_MMM_DATA_DIR: dataDir, GRAPH_MMM_DATA_MIRROR: mirror, GRAPH_MMM_DATA_URL: srv.url });
      assert.equal(r.code, 0, r.stderr);
      assertPlaced(dataDir);
      assert.deepEqual(srv.requests, []);
      assert.ok(r.stderr.includes(join(mirror, "causalmmm-sim", "shuffled_data.npy")), r.stderr);
    } finally {
      await close(srv.server);
    }
  });

  it("takes a mirror holding the files directly, and downloads only what the mirror lacks", async () => {
    const srv = await serve(real);
    try {
      const mirror = tempDir();
      copyFileSync(join(REAL, "shuffled_data.npy"), join(mirror, "shuffled_data.npy"));
      copyFileSync(join(REAL, "shuffled_context.npy"), join(mirror, "shuffled_context.npy"));
      const dataDir = tempDir();
      const r = await runData({ GRAPH_MMM_DATA_DIR: dataDir, GRAPH_MMM_DATA_MIRROR: mirror, GRAPH_MMM_DATA_URL: srv.url });
      assert.equal(r.code, 0, r.stderr);
      assertPlaced(dataDir);
      assert.deepEqual(srv.requests, ["/sim/shuffled_edges.npy"]);
    } finally {
      await close(srv.server);
    }
  });

  it("rejects a corrupted file in the mirror, writing nothing", async () => {
    const mirror = tempDir();
    placeReal(mirror);
    const bad = Buffer.from(real["shuffled_context.npy"]);
    bad[200] ^= 1;
    writeFileSync(join(mirror, "shuffled_context.npy"), bad);
    const dataDir = tempDir();
    const r = await runData({ GRAPH_MMM_DATA_DIR: dataDir, GRAPH_MMM_DATA_MIRROR: mirror, GRAPH_MMM_DATA_URL: `http://127.0.0.1:${await closedPort()}/sim` });
    assert.equal(r.code, 1);
    assert.equal(lines(r.stderr).length, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`${join(mirror, "shuffled_context.npy").replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} has SHA-256 .*expected a7671b20`));
    assert.deepEqual(contents(dataDir), []);
  });

  it("offline with no mirror: exit 1, one line naming the missing files and how to get them, nothing written", async () => {
    const dataDir = tempDir();
    const r = await runData({
      GRAPH_MMM_DATA_DIR: dataDir,
      GRAPH_MMM_DATA_MIRROR: "none",
      GRAPH_MMM_DATA_URL: `http://127.0.0.1:${await closedPort()}/sim`,
      GRAPH_MMM_DATA_TIMEOUT_MS: "5000",
    });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    const out = lines(r.stderr);
    assert.equal(out.length, 1, r.stderr);
    for (const f of NAMES) assert.ok(out[0].includes(f), `names ${f}: ${out[0]}`);
    assert.ok(out[0].includes("https://raw.githubusercontent.com/ChaunceyKung/CausalMMM/7d2fd4391757b6c63ee6144744b80784c1aa211f/data/sim"), out[0]);
    assert.ok(out[0].includes("GRAPH_MMM_DATA_MIRROR"), out[0]);
    assert.match(out[0], /ECONNREFUSED/);
    assert.deepEqual(contents(dataDir), []);
  });

  it("a server that does not answer times out (GRAPH_MMM_DATA_TIMEOUT_MS) with one line, trying no further file", async () => {
    const requests: string[] = [];
    const silent = createServer((req) => requests.push(req.url ?? "")); // never answers
    await new Promise<void>((ok) => silent.listen(0, "127.0.0.1", ok));
    try {
      const dataDir = tempDir();
      const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/sim`;
      const r = await runData({ GRAPH_MMM_DATA_DIR: dataDir, GRAPH_MMM_DATA_MIRROR: "none", GRAPH_MMM_DATA_URL: url, GRAPH_MMM_DATA_TIMEOUT_MS: "300" });
      assert.equal(r.code, 1);
      assert.equal(lines(r.stderr).length, 1, r.stderr);
      assert.match(r.stderr, /no answer within 300 ms/);
      for (const f of NAMES) assert.ok(r.stderr.includes(f), `names ${f}`);
      assert.equal(requests.length, 1, "the other files are not attempted once the server was not reached");
      assert.deepEqual(contents(dataDir), []);
    } finally {
      silent.closeAllConnections();
      await close(silent);
    }
  });

  it("a mirror that is not a folder is one line naming it", async () => {
    const dataDir = tempDir();
    const missing = join(tempDir(), "no-such-mirror");
    const r = await runData({ GRAPH_MMM_DATA_DIR: dataDir, GRAPH_MMM_DATA_MIRROR: missing, GRAPH_MMM_DATA_URL: `http://127.0.0.1:${await closedPort()}/sim` });
    assert.equal(r.code, 1);
    assert.equal(lines(r.stderr).length, 1, r.stderr);
    assert.ok(r.stderr.includes(`mirror ${missing} is not a folder`), r.stderr);
    assert.deepEqual(contents(dataDir), []);
  });

  it("present and valid: no request, no copy, no output", async () => {
    const srv = await serve(real);
    try {
      const dataDir = tempDir();
      placeReal(join(dataDir, "causalmmm-sim"));
      const earlier = NAMES.map((f) => statSync(join(dataDir, "causalmmm-sim", f)));
      const mirror = tempDir();
      placeReal(mirror);
      const r = await runData({ GRAPH_MMM_DATA_DIR: dataDir, GRAPH_MMM_DATA_MIRROR: mirror, GRAPH_MMM_DATA_URL: srv.url });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr + r.stdout, "");
      assert.deepEqual(srv.requests, []);
      NAMES.forEach((f, k) => {
        const now = statSync(join(dataDir, "causalmmm-sim", f));
        assert.equal(now.ino, earlier[k].ino, `${f} is the same file`);
        assert.equal(now.mtimeMs, earlier[k].mtimeMs, `${f} is not rewritten`);
      });
      assertPlaced(dataDir);
    } finally {
      await close(srv.server);
    }
  });

  it("a present file with a wrong checksum is replaced, the valid ones are kept", async () => {
    const dataDir = tempDir();
    placeReal(join(dataDir, "causalmmm-sim"));
    writeFileSync(join(dataDir, "causalmmm-sim", "shuffled_data.npy"), "truncated");
    const kept = statSync(join(dataDir, "causalmmm-sim", "shuffled_edges.npy"));
    const mirror = tempDir();
    placeReal(mirror);
    const r = await runData({ GRAPH_MMM_DATA_DIR: dataDir, GRAPH_MMM_DATA_MIRROR: mirror, GRAPH_MMM_DATA_URL: `http://127.0.0.1:${await closedPort()}/sim` });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(lines(r.stderr).length, 1, r.stderr);
    assert.match(r.stderr, /shuffled_data\.npy from .*replaced a copy with a wrong checksum/);
    assert.equal(statSync(join(dataDir, "causalmmm-sim", "shuffled_edges.npy")).ino, kept.ino);
    assertPlaced(dataDir);
  });
});
