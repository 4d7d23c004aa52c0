'use strict';
// The snippet's sends through a socket or a pipe. A write that completes at once makes no async
// resource (no WRITEWRAP), yet a socket of the same process may read it next: the server's
// 'data' after the client's write is caused, not raced. One `send` record per callback that
// sends, with when it first did (µs); connects and ends have resources of their own.

const dgram = require('node:dgram');
const net = require('node:net');
const path = require('node:path');

const { replaceMethod } = require(path.join(__dirname, 'hiding.cjs'));
const { currentExec, emit, now } = require(path.join(__dirname, 'state.cjs'));

function recordSends(state) {
  const writeGeneric = replaceMethod(net.Socket.prototype, '_writeGeneric',
    function _writeGeneric(...args) {
      // The snippet's console output is the tracer's to record, not a send.
      if (this !== process.stdout && this !== process.stderr) recordSend(state);
      return writeGeneric.apply(this, args);
    });
  const send = replaceMethod(dgram.Socket.prototype, 'send', function send_(...args) {
    recordSend(state);
    return send.apply(this, args);
  });
}

function recordSend(state) {
  if (state.busy || state.truncated) return;
  const exec = currentExec(state);
  if (state.lastSendExec === exec) return;
  state.lastSendExec = exec;
  emit(state, { k: 'send', exec, us: now() });
}

module.exports = { recordSends };
