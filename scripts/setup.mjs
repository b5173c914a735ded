#!/usr/bin/env node
// Installs what the study and the tests need, and does nothing when all of it is already there:
//   1. npm packages (`npm ci` when node_modules is missing or older than package-lock.json);
//   2. Jupyter (nbclient + nbconvert + jupyter_client) for a Python 3 interpreter: Debian's
//      packages when running as root with apt-get, otherwise `pip install --user`;
//   3. the tslab kernel, registered in this checkout's own .jupyter/ folder (not globally), started
//      with scripts/kernel/send-queue.cjs preloaded (tslab sends without waiting: see that file);
//   4. a Chromium for static figure export: Debian's `chromium` (or CHROMIUM_PATH);
//   5. a notebook UI for `npm run lab`: JupyterLab when it is there, else the classic Notebook
//      (Debian's `jupyter-notebook` as root, else `pip install --user jupyterlab`; a UI that
//      cannot be installed is reported and skipped: the study and the tests' runner need none);
//   6. Redis for the study's job queue (`--queue`, `npm run worker`) and its test: Debian's
//      `redis-server` as root (otherwise reported; that test is then skipped);
//   7. the native matrix-product addon (native/matmul.c, for GRAPH_MMM_MATMUL=blas), compiled
//      with gcc against Node's headers and OpenBLAS (Debian's `libopenblas0` as root); without
//      them it is reported and skipped: the wasm backend's own products need nothing.
// Plain Node with no dependencies, so that it can run on a fresh clone.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const log = (msg) => process.stderr.write(`[setup] ${msg}\n`);
const run = (cmd, args, opts = {}) => {
  log(`$ ${cmd} ${args.join(" ")}`);
  const r = spawnSync(cmd, args, { stdio: "inherit", cwd: root, ...opts });
  if (r.status !== 0) throw new Error(`setup: '${cmd} ${args.join(" ")}' failed (exit ${r.status})`);
};
const works = (cmd, args) => spawnSync(cmd, args, { stdio: "ignore" }).status === 0;
const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
const hasApt = works("sh", ["-c", "command -v apt-get"]);

// 1. npm packages.
const stamp = join(root, "node_modules", ".package-lock.json");
if (!existsSync(stamp) || statSync(stamp).mtimeMs < statSync(join(root, "package-lock.json")).mtimeMs) {
  run("npm", ["ci", "--no-audit", "--no-fund"]);
}

// 2. Jupyter.
const JUPYTER_MODULES = "import nbclient, nbconvert, nbformat, jupyter_client";
const pythonCandidates = [process.env.STUDY_PYTHON, "/usr/bin/python3", "python3", "python"].filter(Boolean);
const findPython = () => pythonCandidates.find((py) => works(py, ["-c", JUPYTER_MODULES]));
let python = findPython();
const apt = [];
if (!python) {
  if (isRoot && hasApt) apt.push("python3-nbclient", "jupyter-nbconvert", "jupyter-client");
  else {
    const py = pythonCandidates.find((p) => works(p, ["--version"]));
    if (!py) throw new Error("setup: no Python 3 found; install Python 3 (or set STUDY_PYTHON)");
    run(py, ["-m", "pip", "install", "--user", "nbclient", "nbconvert", "jupyter_client", "nbformat"]);
  }
}

// 4. Chromium (looked for before installing, so that one apt-get call does both).
const chromiumCandidates = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].filter(Boolean);
let chromium = chromiumCandidates.find((p) => existsSync(p));
if (!chromium) {
  if (isRoot && hasApt) apt.push("chromium");
  else log("no Chromium found: static figure export will fail. Install Debian's 'chromium' or set CHROMIUM_PATH.");
}
// 5. A notebook UI (looked for before installing, for the same apt-get call).
const UI_MODULES = { lab: "import jupyterlab", notebook: "import notebook" };
const findUi = (py) => (works(py, ["-c", UI_MODULES.lab]) ? "lab" : works(py, ["-c", UI_MODULES.notebook]) ? "notebook" : null);
const uiPython = () => pythonCandidates.find((py) => findUi(py) !== null);
let installUiWithPip = false;
if (!uiPython()) {
  if (isRoot && hasApt) apt.push("jupyter-notebook");
  else installUiWithPip = true;
}
// 6. Redis (for the same apt-get call).
const hasRedis = () => works("sh", ["-c", "command -v redis-server"]);
if (!hasRedis()) {
  if (isRoot && hasApt) apt.push("redis-server");
  else log("no redis-server: the job queue's test will be skipped. Install Debian's 'redis-server' to run it.");
}
// 7. OpenBLAS for the native products (for the same apt-get call).
const nodeHeaders = [join(dirname(process.execPath), "..", "include", "node"), "/usr/include/node", "/usr/local/include/node"].find((d) =>
  existsSync(join(d, "node_api.h")),
);
const hasGcc = works("sh", ["-c", "command -v gcc"]);
const findOpenBlas = () =>
  ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/local/lib"].find((d) => existsSync(join(d, "libopenblas.so.0")));
if (!findOpenBlas() && isRoot && hasApt && hasGcc && nodeHeaders) apt.push("libopenblas0");
if (apt.length) {
  run("apt-get", ["update", "-q"], { env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  run("apt-get", ["install", "-y", "-q", "--no-install-recommends", ...apt], { env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  python ??= findPython();
  chromium ??= chromiumCandidates.find((p) => existsSync(p));
}
python ??= findPython();
if (!python) throw new Error("setup: Jupyter (nbclient, nbconvert) could not be installed for any Python 3");
if (installUiWithPip) {
  const r = spawnSync(python, ["-m", "pip", "install", "--user", "jupyterlab"], { stdio: "inherit", cwd: root });
  if (r.status !== 0)
    log("no notebook UI: `pip install --user jupyterlab` failed (no package index?). `npm run lab` needs JupyterLab or the classic Notebook.");
}
const ui = uiPython();

// 3. The tslab kernel, in this checkout's own Jupyter path (JUPYTER_PATH=.jupyter/share/jupyter).
const prefix = join(root, ".jupyter");
const kernelJson = join(prefix, "share", "jupyter", "kernels", "tslab", "kernel.json");
const tslabBin = join(root, "node_modules", "tslab", "bin", "tslab");
const sendQueue = join(root, "scripts", "kernel", "send-queue.cjs");
// The spec tslab's own installer writes (its install.py imports IPython, which Debian's minimal
// Jupyter packages do not bring, so it is written here), run by this Node with the send queue.
// The semi-space flag is lib/heap.ts's SEMI_SPACE_FLAG (set-up runs before the library is built;
// test/heap.test.ts checks that the two agree).
const spec = {
  argv: [process.execPath, "--max-semi-space-size=64", "--require", sendQueue, tslabBin, "kernel", "--config-path", "{connection_file}"],
  display_name: "TypeScript",
  language: "typescript",
};
const specText = JSON.stringify(spec, null, 2) + "\n";
if (!existsSync(kernelJson) || readFileSync(kernelJson, "utf8") !== specText) {
  log(`registering the tslab kernel in ${dirname(kernelJson)}`);
  mkdirSync(dirname(kernelJson), { recursive: true });
  writeFileSync(kernelJson, specText);
}

// 7. The native product addon: rebuilt when its source is newer than the compiled file.
const addonSource = join(root, "native", "matmul.c");
const addon = join(root, "native", "build", "matmul.node");
let products = "wasm only";
const blasDir = findOpenBlas();
if (!hasGcc || !nodeHeaders || !blasDir) {
  const missing = [!hasGcc && "gcc", !nodeHeaders && "Node's headers (node_api.h)", !blasDir && "OpenBLAS (libopenblas.so.0; Debian: libopenblas0)"].filter(
    Boolean,
  );
  log(`native matrix products skipped: no ${missing.join(", no ")} (GRAPH_MMM_MATMUL=blas then falls back to wasm's kernel)`);
} else if (!existsSync(addon) || statSync(addon).mtimeMs < statSync(addonSource).mtimeMs) {
  mkdirSync(dirname(addon), { recursive: true });
  const args = ["-O2", "-Wall", "-shared", "-fPIC", `-I${nodeHeaders}`, addonSource, "-o", addon, `-L${blasDir}`, "-l:libopenblas.so.0"];
  const r = spawnSync("gcc", args, { stdio: "inherit", cwd: root });
  if (r.status === 0) products = `OpenBLAS addon built (${addon})`;
  else log(`native matrix products skipped: gcc ${args.join(" ")} failed (exit ${r.status})`);
} else products = `OpenBLAS addon (${addon})`;

mkdirSync(join(root, "build"), { recursive: true });
const env = {
  python,
  jupyterPath: join(prefix, "share", "jupyter"),
  // the notebook server's data folder (JUPYTER_DATA_DIR): its notebook signatures live here, so
  // that notebooks executed by the runner are trusted when `npm run lab` opens them
  jupyterData: join(prefix, "data"),
  chromium: chromium ?? null,
  ui: ui ? { python: ui, kind: findUi(ui) } : null,
};
writeFileSync(join(root, "build", "environment.json"), JSON.stringify(env, null, 2) + "\n");
const uiText = env.ui ? `${env.ui.kind === "lab" ? "JupyterLab" : "the classic Notebook"} (${env.ui.python})` : "none";
log(`ready: python ${python}, tslab kernel in ${env.jupyterPath}, chromium ${chromium ?? "missing"}, notebook UI ${uiText}, matrix products: ${products}`);
