// Loaded with `node --require` before the tslab kernel starts (see the kernel spec written by
// scripts/setup.mjs). tslab calls `socket.send()` on its Jupyter sockets without waiting for the
// previous send; zeromq.js sends synchronously only so many times in a row, then defers one send,
// and any send while a deferred one is pending throws EBUSY ("Socket is busy writing"): output
// is dropped, or the kernel dies. Here every socket gets a queue: a send starts only when the
// previous send on the same socket has finished, so their order is kept. And the iopub socket (a
// Publisher) silently drops messages past its high-water mark (1000 queued for a slow reader):
// here it has none, so a cell that prints thousands of lines delivers them all.
"use strict";
const { dirname } = require("node:path");

const tslabDir = dirname(require.resolve("tslab/package.json", { paths: [__dirname] }));
const zmq = require(require.resolve("zeromq", { paths: [tslabDir] }));
const original = zmq.Socket.prototype.send;
if (typeof original !== "function") throw new Error("send-queue: zeromq's Socket.prototype.send not found");

/** The last pending send of each socket (settled promises only; never rejects). */
const tails = new WeakMap();
let failures = 0;

function queuedSend(message) {
  const previous = tails.get(this) ?? Promise.resolve();
  const sent = previous.then(() => original.call(this, message));
  const settled = sent.catch((err) => {
    // A closed socket at shutdown is not worth a report; anything else is.
    if (this.closed) return;
    failures++;
    process.stderr.write(`send-queue: a kernel message was not sent (${failures} so far): ${err && err.message}\n`);
  });
  tails.set(this, settled);
  return settled;
}
// The native prototype's `send` is read-only but configurable.
Object.defineProperty(zmq.Socket.prototype, "send", { value: queuedSend, writable: false, enumerable: false, configurable: true });

/** A Publisher without a high-water mark (0: unlimited), so that it never drops a message. */
class UnboundedPublisher extends zmq.Publisher {
  constructor(options) {
    super({ sendHighWaterMark: 0, ...options });
  }
}
zmq.Publisher = UnboundedPublisher;
