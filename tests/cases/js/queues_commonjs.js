// In CommonJS the main script is not a microtask: nextTick callbacks run before promise reactions.
// (The timer waits 1 s: setTimeout(0) against setImmediate in the main script is a real race, and
// a loaded machine can hold a process back for a good part of 100 ms.)
setTimeout(() => console.log("setTimeout"), 1000);
setImmediate(() => console.log("setImmediate"));
Promise.resolve().then(() => console.log("then"));
process.nextTick(() => console.log("nextTick"));
console.log("sync");
