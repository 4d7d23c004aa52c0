const { EventEmitter } = require("node:events");

const emitter = new EventEmitter();
emitter.on("ping", (n) => console.log(`listener got ${n}`));
setTimeout(() => {
  console.log("timer: before emit");
  emitter.emit("ping", 1);
  console.log("timer: after emit");
}, 5);
