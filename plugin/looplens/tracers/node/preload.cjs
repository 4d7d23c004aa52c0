'use strict';
// looplens tracer, loaded with `node --require <this file> SNIPPET`.
//
// It writes one JSON record per line to the file descriptor named by LOOPLENS_TRACE_FD and never
// to stdout or stderr: the snippet's real output must stay byte-identical to a plain run. The
// records are raw facts (async resources, their runs, promise resolutions, writes); the Python
// side (looplens/node_records.py) turns them into a Trace. Worker threads load this file too,
// because they inherit --require through execArgv, and write to the same descriptor.

const asyncHooks = require('node:async_hooks');
const fs = require('node:fs');
const path = require('node:path');
const { fileURLToPath } = require('node:url');
const { isMainThread, threadId } = require('node:worker_threads');

const traceFd = Number(process.env.LOOPLENS_TRACE_FD);
// A child process started with fork() inherits --require and the environment, but not the trace
// descriptor (its number may even be the child's IPC channel): only the process that Python
// started, and its worker threads, which share its pid, trace.
if (isMainThread && process.env.LOOPLENS_TRACE_PID === undefined) {
  process.env.LOOPLENS_TRACE_PID = String(process.pid);
}
// Enough resources for any teaching snippet; past it, records stop but writes are still recorded.
const MAX_RESOURCES = 20000;
// The user frame can sit below hook, timer and promise internals and the ESM loader.
const STACK_LIMIT = 40;
// Handles whose close(callback) runs the callback from the loop's close phase.
const HANDLE_TYPES = new Set([
  'TCPWRAP', 'TCPSERVERWRAP', 'PIPEWRAP', 'PIPESERVERWRAP', 'UDPWRAP', 'TTYWRAP', 'PROCESSWRAP',
  'SIGNALWRAP', 'FSEVENTWRAP', 'STATWATCHER', 'MESSAGEPORT',
]);
// The APIs whose resource is the user's callback itself; other resources of these types are
// Node's helpers.
const DIRECT_APIS = new Map([
  ['Timeout', ['setTimeout', 'setInterval']], ['Immediate', ['setImmediate']],
  ['TickObject', ['process.nextTick']], ['Microtask', ['queueMicrotask']],
]);
// Functions that user code calls without a module prefix, and the one that needs a clearer one.
const API_NAMES = new Map([
  ['setTimeout', 'setTimeout'], ['setInterval', 'setInterval'], ['setImmediate', 'setImmediate'],
  ['queueMicrotask', 'queueMicrotask'], ['nextTick', 'process.nextTick'],
]);

const ours = process.env.LOOPLENS_TRACE_PID === String(process.pid);
if (ours && Number.isInteger(traceFd) && traceFd > 2) {
  install();
}

function install() {
  const thread = isMainThread ? 'main' : `worker ${threadId}`;
  const preloadFile = __filename;
  const mainFile = resolveMain(process.argv[1]);
  const fileNames = new Map();
  const types = new WeakMap();
  let resources = 0;
  let truncated = false;
  // Past the cap, the runs of resources recorded before it are still recorded (a timer set early
  // may print late); asyncIds only grow, so those are the ids up to this one.
  let lastRecorded = 0;
  // True while the tracer runs (its own records, or a traced write): resources created then are
  // the tracer's or the stream's, not the snippet's, and are not recorded.
  let busy = false;

  function emit(record) {
    record.th = thread;
    fs.writeSync(traceFd, `${JSON.stringify(record)}\n`);
  }

  function resolveMain(file) {
    if (!file) return null;
    const absolute = path.resolve(file);
    try {
      return fs.realpathSync(absolute);
    } catch {
      return absolute;
    }
  }

  // Call sites name ES modules by URL and builtins by null or `node:…`; user files become paths.
  function userFile(callSite) {
    // An async frame (`at async f`) says who awaits, not who called: it is no user frame here.
    if (callSite.isAsync()) return null;
    const name = callSite.getFileName();
    if (!name || name.startsWith('node:') || name === preloadFile) return null;
    let file = fileNames.get(name);
    if (file === undefined) {
      file = name.startsWith('file:') ? fileURLToPath(name) : name;
      fileNames.set(name, file);
    }
    return file === preloadFile ? null : file;
  }

  function captureStack() {
    const savedPrepare = Error.prepareStackTrace;
    const savedLimit = Error.stackTraceLimit;
    Error.prepareStackTrace = (_error, callSites) => callSites;
    Error.stackTraceLimit = STACK_LIMIT;
    const holder = {};
    Error.captureStackTrace(holder, captureStack);
    const callSites = holder.stack;
    Error.prepareStackTrace = savedPrepare;
    Error.stackTraceLimit = savedLimit;
    return callSites;
  }

  // The user-facing name of the call that created a resource: the frame just above the user frame
  // is the public API that the user called (setTimeout, Promise.then, fs.readFile). An `await`
  // has no such frame: the promise hook is called straight from the async function.
  function apiName(callSite) {
    if (!callSite) return null;
    const name = callSite.getFunctionName() || '';
    const file = callSite.getFileName();
    if (!file) {
      const type = callSite.getTypeName();
      if (callSite.isConstructor()) return `new ${name}`;
      if (type === 'Promise' && ['then', 'catch', 'finally'].includes(name)) return `.${name}`;
      return type && type !== 'Object' ? `${type}.${name}` : name || null;
    }
    if (file === 'node:internal/async_hooks') return null;
    if (API_NAMES.has(name)) return API_NAMES.get(name);
    if (!file.startsWith('node:')) return null;
    if (callSite.isConstructor()) return `new ${name}`;
    const method = callSite.getMethodName();
    const type = (callSite.getTypeName() || '').replace(/^_+/, '');
    if (method && type && type !== 'Object') return `${type}.${method}`;
    // Globals that Node installs at startup (fetch, structuredClone) go by their own name.
    if (file.startsWith('node:internal/bootstrap/')) return name;
    // node:internal/fs/promises readFile → fs.promises.readFile; node:internal/crypto/pbkdf2
    // pbkdf2 → crypto.pbkdf2.
    const bare = name.replace(/^.*\./, '');
    const parts = file.slice('node:'.length).replace(/^internal\//, '').split('/');
    return [...parts.filter((part) => part !== bare), bare].join('.');
  }

  // The first frame in a user file: where the snippet asked for this resource, and (the frame just
  // above it) which API it called. The resource is `direct` when it is the very thing that API
  // schedules (the timer of setTimeout, the reaction of .then or await), not a helper that Node
  // makes on the way (fs.promises.readFile's internal awaits, the ticks inside server.listen).
  function describe(type, callSites) {
    for (let index = 0; index < callSites.length; index += 1) {
      const file = userFile(callSites[index]);
      if (!file) continue;
      const api = apiName(callSites[index - 1]);
      let direct;
      if (type === 'PROMISE') {
        // Only the hook and V8 builtins (Promise.then, Promise.all) may stand between the two.
        direct = callSites.slice(0, index).every((callSite) => {
          const name = callSite.getFileName();
          return !name || name === preloadFile || name === 'node:internal/async_hooks';
        });
      } else {
        direct = !DIRECT_APIS.has(type) || DIRECT_APIS.get(type).includes(api);
      }
      return { file, line: callSites[index].getLineNumber(), api, direct };
    }
    return null;
  }

  function wrapClose(resource) {
    const close = resource.close;
    resource.close = function closeTraced(callback, ...rest) {
      if (typeof callback !== 'function') return close.call(this, callback, ...rest);
      return close.call(this, function onCloseTraced(...args) {
        if (!busy) emit({ k: 'close', id: asyncHooks.executionAsyncId() });
        return callback.apply(this, args);
      }, ...rest);
    };
  }

  function init(id, type, trigger, resource) {
    if (busy) return;
    if (truncated) {
      // Past the limit, a write still needs the queue of the resource it runs in.
      if (typeof resource === 'object' && resource !== null) types.set(resource, type);
      return;
    }
    busy = true;
    try {
      resources += 1;
      if (resources > MAX_RESOURCES) {
        truncated = true;
        emit({ k: 'truncated' });
        return;
      }
      const record = { k: 'init', id, type, trigger, exec: asyncHooks.executionAsyncId() };
      const frame = describe(type, captureStack());
      if (frame) {
        record.line = frame.line;
        if (frame.file !== mainFile) record.file = frame.file;
        if (frame.api) record.api = frame.api;
        if (frame.direct) record.direct = true;
      }
      // The delay after Node's clamping (0 becomes 1); an interval's runs are this far apart.
      if (type === 'Timeout') record.delay = resource._idleTimeout;
      if (HANDLE_TYPES.has(type) && typeof resource.close === 'function') wrapClose(resource);
      emit(record);
      lastRecorded = id;
    } finally {
      busy = false;
    }
  }

  function simple(kind) {
    return (id) => {
      if (busy || id > lastRecorded) return;
      busy = true;
      try {
        emit({ k: kind, id });
      } finally {
        busy = false;
      }
    };
  }

  function promiseResolve(id) {
    if (busy || id > lastRecorded) return;
    busy = true;
    try {
      emit({ k: 'resolve', id, exec: asyncHooks.executionAsyncId() });
    } finally {
      busy = false;
    }
  }

  // A worker's console output reaches the real stdout through the main thread, which writes it
  // from the worker's stdio message handler: such a write is a relay of text already recorded by
  // the worker, and only tells where that text lands in the output.
  function isRelay() {
    if (!isMainThread) return false;
    let fromWorker = false;
    for (const callSite of captureStack()) {
      if (userFile(callSite)) return false;
      const file = callSite.getFileName();
      if (file && file.startsWith('node:internal/worker')) fromWorker = true;
    }
    return fromWorker;
  }

  function patchWrite(stream, name) {
    const write = stream.write;
    stream.write = function tracedWrite(chunk, ...rest) {
      if (busy) return write.call(this, chunk, ...rest);
      busy = true;
      try {
        const output = written(chunk, rest[0]);
        if (output) {
          const exec = asyncHooks.executionAsyncId();
          const record = { k: 'print', stream: name, ...output, exec };
          if (isRelay()) record.relay = true;
          if (truncated) record.type = resourceType(asyncHooks.executionAsyncResource());
          emit(record);
        }
        return write.call(this, chunk, ...rest);
      } finally {
        busy = false;
      }
    };
  }

  // What a write puts out, as text and byte count (a string in another encoding lands as bytes).
  function written(chunk, encoding) {
    if (typeof chunk === 'string') {
      const named = typeof encoding === 'string' && Buffer.isEncoding(encoding);
      const normal = named ? encoding.toLowerCase() : 'utf8';
      if (normal === 'utf8' || normal === 'utf-8') {
        return { text: chunk, bytes: Buffer.byteLength(chunk) };
      }
      const buffer = Buffer.from(chunk, normal);
      return { text: buffer.toString('utf8'), bytes: buffer.length };
    }
    if (ArrayBuffer.isView(chunk)) {
      const buffer = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      return { text: buffer.toString('utf8'), bytes: buffer.length };
    }
    return null;
  }

  function resourceType(resource) {
    return (resource && types.get(resource)) || null;
  }

  // Touch the streams first: creating them makes handles and write requests that are the
  // tracer's, not the snippet's.
  patchWrite(process.stdout, 'stdout');
  patchWrite(process.stderr, 'stderr');
  emit({ k: 'thread', main: mainFile });

  process.on('uncaughtExceptionMonitor', () => {
    emit({ k: 'died', exec: asyncHooks.executionAsyncId() });
  });

  asyncHooks.createHook({
    init,
    before: simple('before'),
    after: simple('after'),
    promiseResolve,
  }).enable();
}
