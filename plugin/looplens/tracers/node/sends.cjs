'use strict';
// What the snippet sends through its sockets, and which ports each socket joins, so that the
// reader can tell a read caused by a send of the same process (the server's 'data' after the
// client's write) from a race between sockets. A write that completes at once makes no async
// resource (no WRITEWRAP): the sends are recorded from the stream's write and end, one `send`
// record per callback and socket ({exec, us, local, remote}: ports, none for a pipe), and from
// a datagram socket's send ({exec, us, udp}). A TCP socket's ports are recorded once it has
// both, just before a run of it (`sock`: {id, local, remote}).

const dgram = require('node:dgram');
const net = require('node:net');
const path = require('node:path');

const { replaceMethod } = require(path.join(__dirname, 'hiding.cjs'));
const { currentExec, emit, now } = require(path.join(__dirname, 'state.cjs'));

function recordSends(state) {
  const prototype = net.Socket.prototype;
  const writeGeneric = replaceMethod(prototype, '_writeGeneric', function _writeGeneric(...args) {
    recordStreamSend(state, this);
    return writeGeneric.apply(this, args);
  });
  const final = replaceMethod(prototype, '_final', function _final(...args) {
    recordStreamSend(state, this);
    return final.apply(this, args);
  });
  const send = replaceMethod(dgram.Socket.prototype, 'send', function send_(...args) {
    recordSend(state, 'udp', { udp: true });
    return send.apply(this, args);
  });
}

function recordStreamSend(state, socket) {
  // The snippet's console output is the tracer's to record, not a send.
  if (socket === process.stdout || socket === process.stderr) return;
  const local = socket.localPort;
  const remote = socket.remotePort;
  const ports = typeof local === 'number' && typeof remote === 'number' ? { local, remote } : {};
  recordSend(state, `${local}:${remote}`, ports);
}

function recordSend(state, channel, fields) {
  if (state.busy || state.truncated) return;
  const exec = currentExec(state);
  const key = `${exec} ${channel}`;
  if (state.lastSend === key) return;
  state.lastSend = key;
  state.busy = true;
  try {
    emit(state, { k: 'send', exec, us: now(), ...fields });
  } finally {
    state.busy = false;
  }
}

// A TCP handle made now: its ports are asked for before its runs (see recordPorts).
function watchSocket(state, id, type, handle) {
  if (type === 'TCPWRAP' && typeof handle.getpeername === 'function') {
    state.sockets.set(id, new WeakRef(handle));
  }
}

function recordPorts(state, id) {
  const ref = state.sockets.get(id);
  if (ref === undefined) return;
  const handle = ref.deref();
  if (handle === undefined) {
    state.sockets.delete(id);
    return;
  }
  const local = {};
  const remote = {};
  // 0 is success; a socket still connecting has no peer yet: asked again at its next run.
  if (handle.getsockname(local) !== 0 || handle.getpeername(remote) !== 0) return;
  state.sockets.delete(id);
  emit(state, { k: 'sock', id, local: local.port, remote: remote.port });
}

module.exports = { recordSends, watchSocket, recordPorts };
