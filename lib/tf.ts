/**
 * The single TensorFlow.js instance of the project. Modules and notebooks import `tf` from here
 * so that every tensor lives in the same engine whatever backend {@link initBackend} chose.
 *
 * At run time `tf` is a plain copy of the package's exports: the package defines each of them as
 * a getter forwarding to tfjs-core or tfjs-layers, so every `tf.op(...)` paid one getter call
 * (two through an `import *`), about 3% of a small recurrent model's training step. The copy holds
 * the same functions, classes and constants; the type namespace is the package's.
 */
import tfjs = require("@tensorflow/tfjs");
export import tf = tfjs;

(exports as { tf: typeof tfjs }).tf = Object.freeze({ ...tfjs });
