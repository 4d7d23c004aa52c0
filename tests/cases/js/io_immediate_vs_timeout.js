const fs = require("node:fs");

fs.readFile(__filename, () => {
  console.log("readFile callback");
  setTimeout(() => console.log("setTimeout"), 0);
  setImmediate(() => console.log("setImmediate"));
});
