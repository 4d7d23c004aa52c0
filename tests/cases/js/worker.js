const { Worker, isMainThread } = require("node:worker_threads");

if (isMainThread) {
  const worker = new Worker(__filename);
  worker.on("exit", () => console.log("main: the worker exited"));
  console.log("main: started a worker");
} else {
  console.log("worker: hello");
  setTimeout(() => console.log("worker: timer"), 5);
}
