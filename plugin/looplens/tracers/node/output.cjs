'use strict';
// The snippet's output: what it writes to process.stdout and process.stderr, and straight to the
// descriptors 1 and 2 (fs.writeSync(1, …), fs.write(2, …)).

const fs = require('node:fs');
const path = require('node:path');

const { replaceMethod } = require(path.join(__dirname, 'hiding.cjs'));
const { addListeners, captureStack, userFile } = require(path.join(__dirname, 'stack.cjs'));
const { currentExec, emit, now } = require(path.join(__dirname, 'state.cjs'));

// A worker's console output reaches the real stdout through its parent thread, which writes it
// from the worker's stdio message handler: such a write is a relay of text already recorded by
// the worker, and only tells where that text lands in the output (or, in a worker, which
// relay carries it on).
function isRelay(callSites) {
  let fromWorker = false;
  for (const callSite of callSites) {
    if (userFile(callSite)) return false;
    const file = callSite.getFileName();
    if (file && file.startsWith('node:internal/worker')) fromWorker = true;
  }
  return fromWorker;
}

// The line of the snippet's main file whose call wrote (console.log's caller): the innermost
// frame of a file of the snippet's, if it is the main file (a worker's file has lines of its own,
// which the page's code does not show).
function printSite(state, callSites) {
  for (const callSite of callSites) {
    const file = userFile(callSite);
    if (file) return file === state.mainFile ? callSite.getLineNumber() : null;
  }
  return null;
}

// `us`: a time before the bytes went out.
function recordPrint(state, name, output, relay, us = now()) {
  const exec = currentExec(state);
  const record = { k: 'print', stream: name, ...output, exec, us };
  const callSites = captureStack();
  const at = printSite(state, callSites);
  if (at) record.at = at;
  if (relay && isRelay(callSites)) record.relay = true;
  if (!relay) record.direct = true;
  if (state.truncated) record.type = state.types.get(exec) || null;
  addListeners(state, record);
  emit(state, record);
}

function patchWrite(state, stream, name) {
  const write = stream.write;
  Object.defineProperty(stream, 'write', {
    value: function write_(chunk, ...rest) {
      if (state.busy) return write.call(this, chunk, ...rest);
      state.busy = true;
      try {
        const output = written(chunk, rest[0]);
        if (output) recordPrint(state, name, output, true);
        return write.call(this, chunk, ...rest);
      } finally {
        state.busy = false;
      }
    },
    writable: true,
    enumerable: false,
    configurable: true,
  });
  Object.defineProperty(stream.write, 'name', { value: write.name });
}

// What a write puts out, as text and byte count (a string in another encoding lands as bytes).
function written(chunk, encoding) {
  if (typeof chunk === 'string') {
    const named = typeof encoding === 'string' && Buffer.isEncoding(encoding);
    const normal = named ? encoding.toLowerCase() : 'utf8';
    if (normal === 'utf8' || normal === 'utf-8') {
      return { text: chunk, bytes: Buffer.byteLength(chunk) };
    }
    return bytesOf(Buffer.from(chunk, normal));
  }
  if (ArrayBuffer.isView(chunk)) {
    return bytesOf(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }
  return null;
}

function bytesOf(buffer) {
  return { text: buffer.toString('utf8'), bytes: buffer.length };
}

// The bytes of fs.write(fd, …) / fs.writeSync(fd, …): a string (position, encoding) or a buffer
// (offset, length, position, or an options object), `count` of them at most.
function directBytes(data, rest, count) {
  let buffer;
  if (typeof data === 'string') {
    const encoding = typeof rest[1] === 'string' && Buffer.isEncoding(rest[1]) ? rest[1] : 'utf8';
    buffer = Buffer.from(data, encoding);
  } else if (ArrayBuffer.isView(data)) {
    const view = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const options = rest[0] !== null && typeof rest[0] === 'object' ? rest[0] : null;
    const offset = Number((options ? options.offset : rest[0]) ?? 0) || 0;
    const length = options ? options.length : rest[1];
    const end = typeof length === 'number' ? offset + length : view.length;
    buffer = view.subarray(offset, end);
  } else {
    return null;
  }
  if (typeof count === 'number' && count >= 0) buffer = buffer.subarray(0, count);
  return buffer.length > 0 ? bytesOf(buffer) : null;
}

function streamName(fd) {
  return fd === 1 ? 'stdout' : fd === 2 ? 'stderr' : null;
}

// `rest` and `count` as directBytes takes them (the bytes are read while the tracer is busy);
// `us` as recordPrint takes it.
function recordDirect(state, name, data, rest, count, us) {
  state.busy = true;
  try {
    const output = directBytes(data, rest, count);
    if (output) recordPrint(state, name, output, false, us);
  } finally {
    state.busy = false;
  }
}

function patchDirectWrites(state) {
  const originalWriteSync = replaceMethod(fs, 'writeSync', function writeSync_(fd, data, ...rest) {
    const name = streamName(fd);
    const start = name ? now() : 0;
    const count = originalWriteSync.call(this, fd, data, ...rest);
    if (name && !state.busy) recordDirect(state, name, data, rest, count, start);
    return count;
  });
  // The asynchronous write is recorded when it is asked for: its bytes come out soon after.
  const originalWrite = replaceMethod(fs, 'write', function write_(fd, data, ...rest) {
    const name = streamName(fd);
    if (name && !state.busy && typeof rest[rest.length - 1] === 'function') {
      recordDirect(state, name, data, rest.slice(0, -1), null);
    }
    return originalWrite.call(this, fd, data, ...rest);
  });
}

// Touch the streams first: creating them makes handles and write requests that are the
// tracer's, not the snippet's.
function captureOutput(state) {
  patchWrite(state, process.stdout, 'stdout');
  patchWrite(state, process.stderr, 'stderr');
  patchDirectWrites(state);
}

module.exports = { captureOutput };
