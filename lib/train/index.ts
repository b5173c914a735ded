/** Training: the fit loop, checkpoints, data-parallel gradients, batches. */
export * from "./fit";
export * from "./checkpoint";
export * from "./trainable";
export * from "./batches";
export { gradientEngine, localGradients } from "./gradients";
