export * from "./figure";
export * from "./render";
export * from "./show";
export { plotlyBundle } from "./bundle";
