const net = require("node:net");

const server = net.createServer((socket) => {
  socket.on("data", (data) => {
    console.log(`server got ${data}`);
    socket.end("pong");
  });
});
server.listen(0, "127.0.0.1", () => {
  const client = net.connect(server.address().port, "127.0.0.1", () => {
    console.log("client connected");
    client.write("ping");
  });
  client.on("data", (data) => console.log(`client got ${data}`));
  client.on("close", () => {
    console.log("client closed");
    server.close();
  });
});
