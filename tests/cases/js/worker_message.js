// A message to a worker runs its parentPort listener from the poll phase, no sooner than the
// main thread sent it (at 20 ms).
const { Worker, isMainThread, parentPort } = require("node:worker_threads");

if (isMainThread) {
  const worker = new Worker(__filename);
  setTimeout(() => worker.postMessage("ping"), 20);
  worker.on("exit", () => console.log("main: the worker exited"));
} else {
  console.log("worker: exec arguments", process.execArgv.length);
  parentPort.once("message", (message) => console.log("worker: got", message));
}
