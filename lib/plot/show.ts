/**
 * `show(fig)`: the one call notebooks make for a figure. It exports the figure to the figures
 * folder (PNG + SVG) and, inside a notebook, publishes one output that carries both an
 * interactive Plotly plot (the bundle inlined from node_modules the first time, no CDN) and the
 * static PNG, which is what a viewer without JavaScript shows.
 */
import { inNotebook, publish } from "../notebook";
import { escapeHtml } from "../progress";
import { figuresDir } from "../study";
import { plotlyBundle } from "./bundle";
import type { Figure } from "./figure";
import { exportFigure } from "./render";

let bundleSent = false;
let counter = 0;

/** JSON that is safe inside a <script> element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/**
 * The HTML of an inline figure: the PNG inside a div that the script replaces with the live
 * plot when JavaScript runs. The bundle is wrapped so that an AMD loader on the page (classic
 * Jupyter's require.js) cannot capture it: Plotly always lands on `window.Plotly`.
 */
export function figureHtml(fig: Figure, pngBase64: string, withBundle: boolean): string {
  const id = `graph-mmm-fig-${process.pid}-${++counter}`;
  const bundle = withBundle
    ? `<script>(function(){var define=undefined,module=undefined,exports=undefined;\n${plotlyBundle()}\n}).call(window);</script>\n`
    : "";
  return (
    `<figure style="margin:0">` +
    `<div id="${id}" style="max-width:${fig.width}px">` +
    `<img src="data:image/png;base64,${pngBase64}" width="${fig.width}" height="${fig.height}" alt="${escapeHtml(fig.caption)}"/>` +
    `</div>` +
    `<figcaption style="font-size:0.9em;color:#444">${escapeHtml(fig.name)}: ${escapeHtml(fig.caption)}</figcaption>` +
    `</figure>\n` +
    bundle +
    `<script>(function(){var el=document.getElementById(${scriptJson(id)});if(!el||!window.Plotly)return;` +
    `var spec=${scriptJson({ data: fig.data, layout: fig.layout })};el.innerHTML="";` +
    `window.Plotly.newPlot(el,spec.data,spec.layout,{displaylogo:false});})();</script>`
  );
}

/**
 * Exports the figure and shows it inline when in a notebook. Resolves to nothing, so that a
 * notebook cell ending in `await show(fig)` prints no value; use {@link exportFigure} for paths.
 */
export async function show(fig: Figure, dir: string = figuresDir()): Promise<void> {
  const exported = await exportFigure(fig, dir);
  if (inNotebook()) {
    const png64 = exported.rendered.png.toString("base64");
    const withBundle = !bundleSent;
    publish({
      "text/html": figureHtml(fig, png64, withBundle),
      "image/png": png64,
      "text/plain": `${fig.name}: ${fig.caption}`,
    });
    bundleSent = true;
  } else {
    process.stderr.write(`figure ${fig.name} -> ${exported.png}\n`);
  }
}
