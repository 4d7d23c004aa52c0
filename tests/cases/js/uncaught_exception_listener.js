// Node calls an 'uncaughtException' listener right after a callback threw, in the same phase: the
// listener is a callback of its own, in the queue of the one that threw.
process.on("uncaughtException", (error) => {
  console.log("caught:", error.message);
  process.nextTick(() => console.log("tick set by the listener"));
});
setTimeout(() => {
  console.log("timer throws");
  throw new Error("boom");
}, 10);
