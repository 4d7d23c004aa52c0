queueMicrotask(() => console.log("queueMicrotask 1"));
Promise.resolve().then(() => console.log("then"));
queueMicrotask(() => {
  console.log("queueMicrotask 2");
  queueMicrotask(() => console.log("nested queueMicrotask"));
});
process.nextTick(() => console.log("nextTick"));
