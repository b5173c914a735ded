/** Training: the fit loop, checkpoints, data-parallel gradients, batches (and the trainable contract, from core/). */
export * from "./fit";
export * from "./checkpoint";
export * from "../core/trainable";
export * from "./batches";
export { gradientEngine, localGradients } from "./gradients";
