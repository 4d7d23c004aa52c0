// socket.setTimeout() arms a timer of Node's own; when it fires, the snippet's 'timeout' listener
// runs and destroys the socket: the close comes at 50 ms.
const net = require("node:net");

const server = net.createServer(() => {});
server.listen(0, "127.0.0.1", () => {
  const client = net.connect(server.address().port, "127.0.0.1");
  client.setTimeout(50, () => client.destroy());
  client.on("close", () => {
    console.log("closed after the idle timeout");
    server.close();
  });
});
