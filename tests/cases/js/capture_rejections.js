// captureRejections: emit() puts a .then on the promise that an async listener returns; when it
// rejects, that .then routes the error to 'error' from a nextTick. The 'error' listener is
// scheduled by that emit() call, and comes from the callback that rejected the promise.
const { EventEmitter } = require("node:events");

const e = new EventEmitter({ captureRejections: true });
e.on("save", async (what) => {
  if (what === "now") throw new Error("rejected at once");
  await null;
  throw new Error("rejected after an await");
});
e.on("error", (err) => console.log("'error' listener got:", err.message));

setTimeout(() => e.emit("save", "later"), 5);
e.emit("save", "now");
console.log("emit returned without throwing");
