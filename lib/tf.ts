/**
 * The single TensorFlow.js instance of the project. Modules and notebooks import `tf` from here
 * so that every tensor lives in the same engine whatever backend {@link initBackend} chose.
 */
import * as tf from "@tensorflow/tfjs";
export { tf };
