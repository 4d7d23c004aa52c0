// Writes straight to a descriptor belong to the callback that made them. A child process that
// shares stdout prints the same text as the parent, without shifting whose line is whose.
const fs = require("node:fs");
const { execFileSync } = require("node:child_process");

console.log("same");
fs.writeSync(2, "straight to stderr\n");
setTimeout(() => {
  execFileSync(process.execPath, ["-e", 'console.log("same")'], { stdio: "inherit" });
  // (The loop's clock stood still while the child ran: wait from the next loop turn on.)
  setImmediate(() => setTimeout(() => fs.writeSync(1, "same\n"), 50));
}, 5);
