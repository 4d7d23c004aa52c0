// "Scheduled by" names the call as the snippet wrote it, not Node's internal function.
const zlib = require("node:zlib");
const crypto = require("node:crypto");
const { pipeline, Readable, Writable } = require("node:stream");
const { gzip } = zlib;

gzip("hello", () => {
  console.log("zlib.gzip");
  zlib.deflate("hello", () => {
    console.log("zlib.deflate");
    crypto.randomBytes(4, () => {
      console.log("crypto.randomBytes");
      const sink = new Writable({ write: (chunk, encoding, done) => done() });
      pipeline(Readable.from(["a"]), sink, () => console.log("stream.pipeline"));
    });
  });
});
