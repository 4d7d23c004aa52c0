// Nothing tells a traced run from a plain one: not the arguments, the environment, the module
// caches, nor the stack of an error (the tracer's async hook must not add frames to it).
const fs = require("node:fs");
const resolved = require("node:module")._pathCache;
console.log(process.execArgv.length, typeof process.env.LOOPLENS_TRACE_FD, Object.keys(require.cache).length, Object.keys(resolved).length);
queueMicrotask(() => console.log(new Error("in a microtask").stack));
fs.stat(__filename, () => {
  console.log(new Error("in an I/O callback").stack);
  setImmediate(() => {
    throw new Error("in an immediate");
  });
});
