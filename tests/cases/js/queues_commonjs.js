// In CommonJS the main script is not a microtask: nextTick callbacks run before promise reactions.
// (The timer waits 100 ms: setTimeout(0) against setImmediate in the main script is a real race.)
setTimeout(() => console.log("setTimeout"), 100);
setImmediate(() => console.log("setImmediate"));
Promise.resolve().then(() => console.log("then"));
process.nextTick(() => console.log("nextTick"));
console.log("sync");
