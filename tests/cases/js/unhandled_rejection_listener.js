// Node calls an 'unhandledRejection' listener once the nextTick and microtask queues are empty,
// from the function that drains the nextTick queue: not from the timer that rejected.
process.on("unhandledRejection", (reason) => {
  console.log("unhandled:", reason.message);
  setTimeout(() => console.log("timer set by the listener"), 5);
});
setTimeout(() => {
  console.log("timer rejects");
  Promise.reject(new Error("nobody catches me"));
  process.nextTick(() => console.log("tick"));
  Promise.resolve().then(() => console.log("then"));
}, 10);
