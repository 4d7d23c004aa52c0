import { readFile } from "node:fs/promises";

const text = await readFile(new URL(import.meta.url), "utf8");
console.log(`first line: ${text.split("\n")[0]}`);
