const fs = require("node:fs");

console.log("reading");
fs.readFile(__filename, "utf8", (error, text) => {
  console.log(`read ${text.split("\n")[0]}`);
});
console.log("read requested");
