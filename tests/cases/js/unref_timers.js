// Timers that the snippet asks for, even unref'd or set by Node on its behalf, are traced and
// move the clock: its own unref'd setTimeout, AbortSignal.timeout, timers/promises.
const { setTimeout: sleep } = require("node:timers/promises");

setTimeout(() => console.log("unref'd by the snippet, still traced"), 10).unref();
const signal = AbortSignal.timeout(20);
signal.addEventListener("abort", () => console.log("AbortSignal.timeout fired"));
(async () => {
  await sleep(30);
  console.log("timers/promises resolved");
})();
