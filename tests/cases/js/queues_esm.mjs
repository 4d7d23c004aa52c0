// An ES module body runs inside a promise job of the module loader: the microtask queue is drained
// before Node turns to the nextTick queue, so here the .then prints first.
setTimeout(() => console.log("setTimeout"), 1000);
setImmediate(() => console.log("setImmediate"));
Promise.resolve().then(() => console.log("then"));
process.nextTick(() => console.log("nextTick"));
console.log("sync");
