// A worker's message is due when the worker sent it: at 0 ms on its clock (computing takes no
// logical time). The main thread's 100 ms timer runs before the message arrives, and Node's own
// messages from the starting worker may come before or after that timer: the message is due at
// 0 ms all the same, and runs at 100 ms, after the timer.
const { Worker, isMainThread, parentPort } = require("node:worker_threads");

if (isMainThread) {
  setTimeout(() => console.log("main: timer"), 100);
  const worker = new Worker(__filename);
  worker.on("message", (message) => console.log("main: got", message));
} else {
  // Busy for 400 ms (blocked, without using the CPU).
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 400);
  parentPort.postMessage("done");
}
