/**
 * The plot layer: figures as data (`figure.ts`: the builders and `facets`), their static export
 * to PNG and SVG in headless Chromium (`render.ts`), figures of a panel's data (`panels.ts`), and
 * `show`, the one call a notebook makes.
 * Analysis code never draws; it returns numbers that these builders turn into figures.
 */
export * from "./figure";
export * from "./panels";
export * from "./render";
export * from "./show";
export { plotlyBundle } from "./bundle";
