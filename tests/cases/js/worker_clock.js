// A worker's clock starts when the Worker was created (10 ms), so its 5 ms timer runs at 15 ms;
// the main thread hears of it no earlier.
const { Worker, isMainThread } = require("node:worker_threads");

if (isMainThread) {
  setTimeout(() => {
    const worker = new Worker(__filename);
    worker.on("exit", () => console.log("main: the worker exited"));
  }, 10);
} else {
  setTimeout(() => console.log("worker: timer"), 5);
}
