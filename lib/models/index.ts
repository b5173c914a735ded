/**
 * The models of the study: CausalMMM, DICE Stage 1 and 2, the reference decoders, the
 * DeepCausalMMM-style model, the linear Granger baseline, and their building blocks (the
 * parameter store and the model registry are core/'s, re-exported here).
 */
export * from "./causalmmm";
export * from "./encoder";
export * from "./dice-stage1";
export * from "./graph-safe";
export * from "./deepcausalmmm";
export * from "./support";
export * from "./granger";
export * from "./pcmci";
export * from "./edges";
export { ParamStore } from "../core/params";
export { dense, matMul2d } from "./params";
export { buildModel, registerModel } from "./registry";
