// An HTTP server caches its Date header for up to a second, with an unref'd timer of its own that
// fires when the wall clock's second ends. Nothing of the snippet comes of it: it must not move
// the logical clock, so the snippet's timer is due 5 ms after the response, whatever the second.
const http = require("node:http");

const server = http.createServer((req, res) => res.end("ok"));
server.listen(0, "127.0.0.1", () => {
  http.get(`http://127.0.0.1:${server.address().port}/`, (res) => {
    res.resume();
    res.on("end", () => {
      console.log("response", res.statusCode);
      // Past the end of the cached second (blocked, without using the CPU): Node's timer
      // fires before the snippet's.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1001);
      server.close();
      setTimeout(() => console.log("timer"), 5);
    });
  });
});
