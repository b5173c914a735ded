/**
 * The version of the compiled library: what a cached result or a shared training is valid for.
 */
import { createHash } from "node:crypto";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

/**
 * The version of every job and shared training: a hash of the compiled library (every .js file under
 * build/lib), so that any change of code invalidates cached results instead of silently
 * reusing them.
 */
export const LIBRARY_VERSION: string = (() => {
  const root = join(__dirname, "..");
  const files: string[] = [];
  const walk = (d: string) => {
    for (const f of readdirSync(d).sort()) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (f.endsWith(".js")) files.push(p);
    }
  };
  walk(root);
  const h = createHash("sha256");
  for (const f of files) h.update(relative(root, f)).update("\0").update(readFileSync(f)).update("\0");
  return h.digest("hex").slice(0, 16);
})();
