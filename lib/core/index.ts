/**
 * The contracts below models/, train/ and diagnostics/, so that none of those imports another
 * for them: the Forecaster contract (what diagnostics judge), the Trainable contract and
 * plain-array batches (what the training loop needs), the parameter store, the model registry
 * (how a worker thread rebuilds a model), and the linear-VAR coefficient layout with its
 * least-squares solver.
 */
export * from "./forecaster";
export * from "./trainable";
export * from "./params";
export * from "./registry";
export * from "./linear-var";
