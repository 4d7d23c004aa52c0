// An error thrown in a queueMicrotask callback is uncaught: the report belongs to the microtask.
queueMicrotask(() => {
  throw new Error("in a microtask");
});
