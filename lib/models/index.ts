/** The models of the study: CausalMMM, the linear Granger baseline, and their building blocks. */
export * from "./causalmmm";
export * from "./granger";
export * from "./edges";
export { ParamStore, dense, matMul2d } from "./params";
export { buildModel, registerModel } from "./registry";
