// An error thrown inside a function that the tracer replaced (a stream's write, fs.writeSync,
// queueMicrotask) has the stack of a plain run: no frame of any of the tracer's files.
const fs = require("node:fs");

function show(run) {
  try {
    run();
  } catch (error) {
    console.log(error.stack.split("\n").slice(0, 4).join("\n"));
  }
}

setImmediate(() => {
  show(() => process.stdout.write(Symbol("chunk")));
  show(() => fs.writeSync(1, {}));
  show(() => queueMicrotask(42));
});
