// 'exit' listeners that process.exit() calls run inside the callback that called it; after an
// unhandled rejection, inside Node's rejections step.
process.on("exit", (code) => console.log("exit", code));
process.on("unhandledRejection", (reason) => {
  console.log("unhandled:", reason.message);
  process.exit(3);
});
setTimeout(() => Promise.reject(new Error("rejected in a timer")), 10);
