'use strict';
// looplens tracer, loaded with `node --require <this file> SNIPPET`.
//
// It writes one JSON record per line to the file descriptor named by LOOPLENS_TRACE_FD and never
// to stdout or stderr: the snippet's real output must stay byte-identical to a plain run. The
// records are raw facts (async resources, their runs, promise resolutions, writes); the Python
// side (looplens/node_records.py) turns them into a Trace. Worker threads load this file too,
// because they inherit --require through Node's own copy of the exec arguments, and write to the
// same descriptor.
//
// A plain run must not be able to tell it is traced, so the tracer hides its traces:
// - the environment variable is read and deleted (workers get the descriptor through the
//   worker environment data instead; child processes get nothing and do not trace);
// - `--require <this file>` is removed from process.execArgv (a Worker started without
//   execArgv still inherits it: Node copies its C++ argument list, not this array; fork() uses
//   this array, so child processes run plain, as they do without the tracer);
// - an async hook with before/after makes Node call native callbacks through an extra JS frame
//   (callbackTrampoline in node:internal/async_hooks), and any enabled hook makes queueMicrotask
//   wrap its callback in an AsyncResource (three more frames). Error.prepareStackTrace drops the
//   trampoline frames (and the tracer's own), and queueMicrotask runs the plain fast path with
//   two marker microtasks around the callback to see it run. Both follow the snippet's own async
//   hooks: while it has one enabled, a plain run has those frames too, and keeps them.
// Known limits: Error.prepareStackTrace is another function (named like Node's), and the tracer's
// own frames (a patched write, queueMicrotask) are in the middle of a stack only while it runs:
// an error thrown right there with a stack deeper than Error.stackTraceLimit shows one frame
// fewer than a plain run. A Worker given its own execArgv does not load the tracer: its lines
// belong to the main thread's callback that relays them.

const asyncHooks = require('node:async_hooks');
const fs = require('node:fs');
const path = require('node:path');
const { fileURLToPath } = require('node:url');
const workerThreads = require('node:worker_threads');

const { isMainThread, threadId } = workerThreads;
const TRACE_FD_VARIABLE = 'LOOPLENS_TRACE_FD';
const TRACE_LIMIT_VARIABLE = 'LOOPLENS_TRACE_LIMIT';
// The sandbox's own Node flags (JSON list): a plain run's process.execArgv does not show them.
const HIDDEN_ARGS_VARIABLE = 'LOOPLENS_HIDDEN_ARGS';
const ENVIRONMENT_KEY = 'looplens';
const preloadFile = __filename;

// Enough resources for any teaching snippet; past it, records stop but writes are still recorded.
// The host sets it (the `events` limit); a worker gets it from its main thread's settings.
let MAX_RESOURCES = 20000;
// Past the cap, the queue of a printing callback comes from its resource type; so many at most.
const MAX_TYPES = 1000000;
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
// Internal folders (node:internal/<folder>/…) named differently from their public module.
const INTERNAL_FOLDERS = new Map([
  ['streams', 'stream'], ['webstreams', 'stream/web'], ['modules', 'module'],
  ['perf', 'perf_hooks'], ['test_runner', 'test'],
]);
const PUBLIC_MODULES = new Set(require('node:module').builtinModules);

const settings = readSettings();
hideExecArgv(settings?.hidden ?? []);
// The snippet's require.cache lists only its own modules, as in a plain run.
delete require.cache[preloadFile];
if (settings !== null) {
  MAX_RESOURCES = settings.limit ?? MAX_RESOURCES;
  install(settings);
}

function readSettings() {
  if (!isMainThread) return workerThreads.getEnvironmentData(ENVIRONMENT_KEY) ?? null;
  const value = process.env[TRACE_FD_VARIABLE];
  delete process.env[TRACE_FD_VARIABLE];
  const limit = Number(process.env[TRACE_LIMIT_VARIABLE]);
  delete process.env[TRACE_LIMIT_VARIABLE];
  let hidden = [];
  try {
    hidden = JSON.parse(process.env[HIDDEN_ARGS_VARIABLE] ?? '[]');
  } catch {}
  delete process.env[HIDDEN_ARGS_VARIABLE];
  const fd = Number(value);
  if (value === undefined || !Number.isInteger(fd) || fd <= 2) return null;
  const data = {
    fd, limit: Number.isInteger(limit) && limit > 0 ? limit : MAX_RESOURCES, hidden,
  };
  workerThreads.setEnvironmentData(ENVIRONMENT_KEY, data);
  return data;
}

function isPreload(file) {
  if (typeof file !== 'string') return false;
  const absolute = path.resolve(file);
  if (absolute === preloadFile) return true;
  try {
    return fs.realpathSync(absolute) === preloadFile;
  } catch {
    return false;
  }
}

function hideExecArgv(hidden) {
  const argv = process.execArgv;
  for (const arg of hidden) {
    const index = argv.indexOf(arg);
    if (index !== -1) argv.splice(index, 1);
  }
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index];
    if ((arg === '--require' || arg === '-r') && isPreload(argv[index + 1])) {
      argv.splice(index, 2);
      index -= 1;
    } else if (arg.startsWith('--require=') && isPreload(arg.slice('--require='.length))) {
      argv.splice(index, 1);
      index -= 1;
    }
  }
}

// Replace a method or function without a trace: same name and length, not enumerable.
function replaceMethod(owner, name, replacement) {
  const original = owner[name];
  for (const key of Reflect.ownKeys(original)) {
    if (key === 'prototype' || key === 'caller' || key === 'arguments') continue;
    Object.defineProperty(replacement, key, Object.getOwnPropertyDescriptor(original, key));
  }
  const descriptor = Object.getOwnPropertyDescriptor(owner, name);
  Object.defineProperty(owner, name, {
    value: replacement,
    writable: descriptor ? Boolean(descriptor.writable) : true,
    enumerable: descriptor ? descriptor.enumerable : false,
    configurable: true,
  });
  return original;
}

function install({ fd: traceFd, parent, hidden: hiddenArgs = [] }) {
  const thread = isMainThread ? 'main' : `worker ${threadId}`;
  const writeSync = fs.writeSync;
  const mainFile = resolveMain(process.argv[1]);
  const fileNames = new Map();
  const sources = new Map();
  const types = new Map();
  const timerIds = new WeakMap();
  // Resources that the tracer itself made (its writes): their runs are not the snippet's.
  const ignored = new Set();
  let resources = 0;
  let truncated = false;
  // Past the cap, the runs of resources recorded before it are still recorded (a timer set early
  // may print late); asyncIds only grow, so those are the ids up to this one.
  let lastRecorded = 0;
  // True while the tracer runs (its own records, or a traced write): resources created then are
  // the tracer's or the stream's, not the snippet's, and are not recorded.
  let busy = false;
  // The id of the queueMicrotask callback running now (negative: the tracer numbers them).
  let microtask = 0;
  let microtasks = 0;
  // What a plain run would have: hooks that the snippet enabled, and whether it asked for
  // executionAsyncResource (both make Node use the callback trampoline too).
  const userHooks = new Map();
  let usesExecutionAsyncResource = false;
  // The resources whose callbacks run now, innermost last (the main script's outside them all):
  // code that runs in another resource's context was called by Node outside any callback (the
  // listeners of process events, see addListeners).
  const running = [];
  const scriptExec = asyncHooks.executionAsyncId();
  // From the uncaught error's report to the end of its callback, Node calls process listeners.
  let dying = false;
  // Where Node emits 'uncaughtExceptionMonitor' (its first listener is the tracer's): its other
  // listeners are not 'uncaughtException' ones, though Node calls both from the same function.
  let monitorSite = null;

  function emit(record) {
    record.th = thread;
    writeSync(traceFd, `${JSON.stringify(record)}\n`);
  }

  // Microseconds on the monotonic clock that Python's time.monotonic() reads too: the Python side
  // times the output it reads with it, to tell when bytes that nobody recorded came out.
  function now() {
    const [seconds, nanoseconds] = process.hrtime();
    return seconds * 1e6 + Math.floor(nanoseconds / 1e3);
  }

  function currentExec() {
    return microtask || asyncHooks.executionAsyncId();
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
    // wasm://… frames are WebAssembly that Node runs for itself (fetch's HTTP parser).
    if (!name || name.startsWith('node:') || name.startsWith('wasm:') || name === preloadFile) {
      return null;
    }
    let file = fileNames.get(name);
    if (file === undefined) {
      file = name.startsWith('file:') ? fileURLToPath(name) : name;
      fileNames.set(name, file);
    }
    return file === preloadFile ? null : file;
  }

  function captureStack(limit = STACK_LIMIT) {
    const savedPrepare = Error.prepareStackTrace;
    const savedLimit = Error.stackTraceLimit;
    Error.prepareStackTrace = (_error, callSites) => callSites;
    Error.stackTraceLimit = limit;
    const holder = {};
    Error.captureStackTrace(holder, captureStack);
    const callSites = holder.stack;
    Error.prepareStackTrace = savedPrepare;
    Error.stackTraceLimit = savedLimit;
    return callSites;
  }

  // node:internal/crypto/random → crypto, node:internal/fs/promises → fs/promises, node:zlib →
  // zlib: the public module that a file of Node's belongs to.
  function publicModule(file) {
    let parts = file.slice('node:'.length).split('/');
    if (parts[0] === 'internal') parts = parts.slice(1);
    if (parts.length === 0) return null;
    parts = [...(INTERNAL_FOLDERS.get(parts[0]) || parts[0]).split('/'), ...parts.slice(1)];
    for (let count = parts.length; count > 0; count -= 1) {
      const name = parts.slice(0, count).join('/');
      if (PUBLIC_MODULES.has(name)) return name;
    }
    return null;
  }

  function exportsFunction(moduleName, name) {
    if (!name) return false;
    try {
      const loaded = process.getBuiltinModule(moduleName);
      return loaded !== null && loaded !== undefined && typeof loaded[name] === 'function';
    } catch {
      return false;
    }
  }

  // The identifier that a user frame calls, read from its source at the call's column
  // (`zlib.gzip(` reports the column of `gzip`).
  function calledName(callSite) {
    const file = userFile(callSite);
    const line = callSite.getLineNumber();
    const column = callSite.getColumnNumber();
    if (!file || !line || !column) return null;
    let lines = sources.get(file);
    if (lines === undefined) {
      try {
        lines = fs.readFileSync(file, 'utf8').split('\n');
      } catch {
        lines = null;
      }
      sources.set(file, lines);
    }
    const text = lines && lines[line - 1];
    const match = text && /^[A-Za-z_$][\w$]*/.exec(text.slice(column - 1));
    return match ? match[0] : null;
  }

  // The user-facing name of the call that created a resource: the frame just above the user frame
  // is the public API that the user called (setTimeout, Promise.then, fs.readFile). An `await`
  // has no such frame: the promise hook is called straight from the async function.
  function apiName(callSite, userSite) {
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
    // The name the user called it by, if the module exports it (zlib.gzip is a function named
    // asyncBufferWrapper; crypto.randomBytes lives in node:internal/crypto/random).
    const bare = name.replace(/^.*\./, '');
    const moduleName = publicModule(file);
    if (moduleName === null) return bare || null;
    const called = [method, calledName(userSite), bare].find((each) => exportsFunction(moduleName, each));
    return `${moduleName.replaceAll('/', '.')}.${called || bare}`;
  }

  // The first frame in a user file: where the snippet asked for this resource, and (the frame just
  // above it) which API it called. The resource is `direct` when it is the very thing that API
  // schedules (the timer of setTimeout, the reaction of .then or await), not a helper that Node
  // makes on the way (fs.promises.readFile's internal awaits, the ticks inside server.listen).
  function describe(type, callSites) {
    for (let index = 0; index < callSites.length; index += 1) {
      const file = userFile(callSites[index]);
      if (!file) continue;
      const api = apiName(callSites[index - 1], callSites[index]);
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
    Object.defineProperty(resource, 'close', {
      value: function close_(callback, ...rest) {
        if (typeof callback !== 'function') return close.call(this, callback, ...rest);
        return close.call(this, function onClose(...args) {
          if (!busy) emit({ k: 'close', id: currentExec() });
          return callback.apply(this, args);
        }, ...rest);
      },
      writable: true,
      enumerable: false,
      configurable: true,
    });
  }

  function remember(id, type) {
    if (types.size < MAX_TYPES) types.set(id, type);
  }

  function init(id, type, trigger, resource) {
    if (busy) {
      ignored.add(id);
      return;
    }
    if (type === 'WORKER') {
      // The new thread's tracer learns where it was created (its clock starts there): Node
      // clones this data into the worker after creating this resource.
      workerThreads.setEnvironmentData(ENVIRONMENT_KEY, {
        fd: traceFd, parent: [thread, id], limit: MAX_RESOURCES, hidden: hiddenArgs,
      });
    }
    if (type === 'Timeout') {
      timerIds.set(resource, id);
      patchRefresh(Object.getPrototypeOf(resource));
    }
    if (truncated) {
      // Past the limit, a write still needs the queue of the resource it runs in.
      remember(id, type);
      return;
    }
    busy = true;
    try {
      resources += 1;
      if (resources > MAX_RESOURCES) {
        truncated = true;
        remember(id, type);
        emit({ k: 'truncated' });
        return;
      }
      const record = { k: 'init', id, type, trigger, exec: currentExec() };
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
      addListeners(record);
      emit(record);
      lastRecorded = id;
    } finally {
      busy = false;
    }
  }

  function isTrampoline(callSite) {
    return callSite.getFileName() === 'node:internal/async_hooks' &&
      callSite.getFunctionName() === 'callbackTrampoline';
  }

  function isProcessEmit(callSite) {
    return callSite.getFileName() === 'node:events' && callSite.getFunctionName() === 'emit' &&
      callSite.getTypeName() === 'process';
  }

  function siteOf(callSite) {
    return `${callSite.getFileName()}:${callSite.getLineNumber()}:${callSite.getColumnNumber()}`;
  }

  // The process event that Node emits from `caller` (the frame below process.emit), or null for
  // one that belongs to the callback it runs in (a 'warning' emitted from a nextTick).
  function processEvent(caller) {
    if (!caller) return process._exiting ? 'exit' : 'beforeExit';
    const file = caller.getFileName();
    // process._fatalException is an anonymous function: only its method name says which.
    const name = caller.getFunctionName() || caller.getMethodName();
    if (file === 'node:internal/process/execution' && name === '_fatalException') {
      if (siteOf(caller) === monitorSite) return 'uncaughtExceptionMonitor';
      return process._exiting ? 'exit' : 'uncaughtException';
    }
    if (file === 'node:internal/process/promises') {
      if (name === 'emitUnhandledRejection') return 'unhandledRejection';
      if (name === 'processPromiseRejections') return 'rejectionHandled';
    }
    if (file === 'node:internal/process/per_thread' && name === 'exit') return 'exit';
    return null;
  }

  // Code that runs from a listener of a process event that Node emitted itself, not from the
  // callback whose context it runs in: 'beforeExit' and 'exit' after the loop ended (outside any
  // callback), 'unhandledRejection' from Node's step that reports rejections once the nextTick
  // and microtask queues are empty (in the context of the rejected promise), 'uncaughtException'
  // right after a callback threw (in its context), 'exit' from process.exit() or after an
  // uncaught error. `listeners` names the events, innermost first (an 'exit' listener runs inside
  // an 'uncaughtException' listener that calls process.exit()); `rejections` says that the
  // outermost one runs from the rejections step. Only code whose context is not the innermost
  // running callback's, or that runs while Node is dying or exiting, can be in one: only its
  // stack is read. `monitor`: the record is the tracer's own 'uncaughtExceptionMonitor' listener.
  function addListeners(record, monitor = false) {
    const exec = record.exec;
    const innermost = running.length > 0 ? running[running.length - 1] : scriptExec;
    const quiet = exec !== 0 && !process._exiting && !dying && !monitor;
    if (quiet && (exec === innermost || microtask !== 0)) {
      return;
    }
    const callSites = captureStack(Infinity).filter((callSite) => !isTrampoline(callSite));
    const listeners = [];
    let rejections = false;
    let skip = monitor;
    for (let index = 0; index < callSites.length; index += 1) {
      const callSite = callSites[index];
      if (callSite.getFileName() === 'node:internal/process/promises' &&
          callSite.getFunctionName() === 'processPromiseRejections') {
        rejections = true;
      }
      if (!isProcessEmit(callSite)) continue;
      const caller = callSites[index + 1];
      // The snippet's own process.emit('…') is a synchronous call of its own.
      if (caller && userFile(caller)) continue;
      if (skip) {
        monitorSite = caller ? siteOf(caller) : null;
        skip = false;
        continue;
      }
      const event = processEvent(caller);
      if (event !== null) listeners.push(event);
    }
    if (listeners.length > 0) record.listeners = listeners;
    if (listeners.length > 0 && rejections) record.rejections = true;
  }

  function runRecord(kind) {
    return (id) => {
      dying = false;
      if (kind === 'before') {
        running.push(id);
      } else {
        const at = running.lastIndexOf(id);
        if (at !== -1) running.length = at;
      }
      if (busy || microtask !== 0 || id > lastRecorded || ignored.has(id)) return;
      busy = true;
      try {
        emit({ k: kind, id, us: now() });
      } finally {
        busy = false;
      }
    };
  }

  function promiseResolve(id) {
    if (busy || id > lastRecorded) return;
    busy = true;
    try {
      const record = { k: 'resolve', id, exec: currentExec() };
      addListeners(record);
      emit(record);
    } finally {
      busy = false;
    }
  }

  let refreshPatched = false;
  // timeout.refresh() starts the timer's delay again from now.
  function patchRefresh(prototype) {
    if (refreshPatched || typeof prototype.refresh !== 'function') return;
    refreshPatched = true;
    const refresh = replaceMethod(prototype, 'refresh', function refresh_() {
      const id = timerIds.get(this);
      if (!busy && !truncated && id !== undefined && id <= lastRecorded) {
        busy = true;
        try {
          emit({ k: 'refresh', id, exec: currentExec() });
        } finally {
          busy = false;
        }
      }
      return refresh.call(this);
    });
  }

  // A worker's console output reaches the real stdout through its parent thread, which writes it
  // from the worker's stdio message handler: such a write is a relay of text already recorded by
  // the worker, and only tells where that text lands in the output (or, in a worker, which
  // relay carries it on).
  function isRelay() {
    let fromWorker = false;
    for (const callSite of captureStack()) {
      if (userFile(callSite)) return false;
      const file = callSite.getFileName();
      if (file && file.startsWith('node:internal/worker')) fromWorker = true;
    }
    return fromWorker;
  }

  // `us`: a time before the bytes went out.
  function recordPrint(name, output, relay, us = now()) {
    const exec = currentExec();
    const record = { k: 'print', stream: name, ...output, exec, us };
    if (relay && isRelay()) record.relay = true;
    if (!relay) record.direct = true;
    if (truncated) record.type = types.get(exec) || null;
    addListeners(record);
    emit(record);
  }

  function patchWrite(stream, name) {
    const write = stream.write;
    Object.defineProperty(stream, 'write', {
      value: function write_(chunk, ...rest) {
        if (busy) return write.call(this, chunk, ...rest);
        busy = true;
        try {
          const output = written(chunk, rest[0]);
          if (output) recordPrint(name, output, true);
          return write.call(this, chunk, ...rest);
        } finally {
          busy = false;
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

  // Writes straight to the descriptors 1 and 2 (fs.writeSync(1, …)) are output too.
  function patchDirectWrites() {
    const streamName = (fd) => (fd === 1 ? 'stdout' : fd === 2 ? 'stderr' : null);
    const originalWriteSync = replaceMethod(fs, 'writeSync', function writeSync_(fd, data, ...rest) {
      const name = streamName(fd);
      const start = name ? now() : 0;
      const count = originalWriteSync.call(this, fd, data, ...rest);
      if (name && !busy) {
        busy = true;
        try {
          const output = directBytes(data, rest, count);
          if (output) recordPrint(name, output, false, start);
        } finally {
          busy = false;
        }
      }
      return count;
    });
    // The asynchronous write is recorded when it is asked for: its bytes come out soon after.
    const originalWrite = replaceMethod(fs, 'write', function write_(fd, data, ...rest) {
      const name = streamName(fd);
      if (name && !busy && typeof rest[rest.length - 1] === 'function') {
        busy = true;
        try {
          const output = directBytes(data, rest.slice(0, -1), null);
          if (output) recordPrint(name, output, false);
        } finally {
          busy = false;
        }
      }
      return originalWrite.call(this, fd, data, ...rest);
    });
  }

  // Follow the snippet's own async hooks: while one is enabled, a plain run has the trampoline
  // frames (if it has before or after) and the slow queueMicrotask too.
  function patchAsyncHooks(ours) {
    const createHook = replaceMethod(asyncHooks, 'createHook', function createHook_(callbacks) {
      const hook = createHook.call(this, callbacks);
      const hasRuns = Boolean(callbacks && (callbacks.before || callbacks.after));
      userHooks.set(hook, { enabled: false, hasRuns });
      return hook;
    });
    const prototype = Object.getPrototypeOf(ours);
    const enable = replaceMethod(prototype, 'enable', function enable_() {
      if (this !== ours) {
        const state = userHooks.get(this) || { enabled: false, hasRuns: true };
        userHooks.set(this, { ...state, enabled: true });
      }
      return enable.call(this);
    });
    const disable = replaceMethod(prototype, 'disable', function disable_() {
      const state = userHooks.get(this);
      if (state) userHooks.set(this, { ...state, enabled: false });
      return disable.call(this);
    });
    const executionAsyncResource = replaceMethod(
      asyncHooks,
      'executionAsyncResource',
      function executionAsyncResource_() {
        usesExecutionAsyncResource = true;
        return executionAsyncResource.call(this);
      },
    );
    return { enable: () => enable.call(ours), disable: () => disable.call(ours) };
  }

  function userHooksEnabled(withRuns) {
    for (const state of userHooks.values()) {
      if (state.enabled && (!withRuns || state.hasRuns)) return true;
    }
    return false;
  }

  // Frames that a plain run would not have: the tracer's own, and the trampoline that Node adds
  // around native callbacks only because the tracer's hook has before/after.
  function hideFrames() {
    const prepare = Error.prepareStackTrace;
    if (typeof prepare !== 'function') return;
    function prepareStackTrace(error, trace) {
      if (!Array.isArray(trace)) return prepare(error, trace);
      // Node goes through the trampoline while a hook with before/after is enabled, or any hook
      // once executionAsyncResource() was called.
      const trampolines = userHooksEnabled(true) ||
        (usesExecutionAsyncResource && userHooksEnabled(false));
      const visible = trace.filter((callSite) => {
        const file = callSite.getFileName();
        if (file === preloadFile) return false;
        return trampolines || !isTrampoline(callSite);
      });
      return prepare(error, visible);
    }
    Object.defineProperty(prepareStackTrace, 'name', { value: prepare.name });
    Error.prepareStackTrace = prepareStackTrace;
  }

  // queueMicrotask takes a fast path (the callback itself is the microtask) only while no async
  // hook is enabled. With the tracer's hook disabled for the call, it takes the same path as a
  // plain run; two marker microtasks just before and after the callback tell when it runs
  // (nothing can be queued between three microtasks queued in one go).
  function patchQueueMicrotask(ourHook) {
    const queue = globalThis.queueMicrotask;
    const replacement = function queueMicrotask(callback) {
      if (typeof callback !== 'function' || busy || userHooksEnabled(false)) {
        return queue(callback);
      }
      microtasks += 1;
      const id = -microtasks;
      if (!truncated) {
        busy = true;
        try {
          const record = { k: 'init', id, type: 'Microtask', trigger: 0, exec: currentExec() };
          const frame = describe('Microtask', captureStack());
          if (frame) {
            record.line = frame.line;
            if (frame.file !== mainFile) record.file = frame.file;
            record.api = 'queueMicrotask';
            record.direct = true;
          }
          addListeners(record);
          emit(record);
        } finally {
          busy = false;
        }
      } else {
        remember(id, 'Microtask');
      }
      ourHook.disable();
      try {
        queue(() => {
          if (!truncated) emit({ k: 'before', id, us: now() });
          microtask = id;
        });
        queue(callback);
        queue(() => {
          microtask = 0;
          if (!truncated) emit({ k: 'after', id, us: now() });
        });
      } finally {
        ourHook.enable();
      }
      return undefined;
    };
    Object.defineProperty(globalThis, 'queueMicrotask', {
      ...Object.getOwnPropertyDescriptor(globalThis, 'queueMicrotask'),
      value: replacement,
    });
  }

  // Touch the streams first: creating them makes handles and write requests that are the
  // tracer's, not the snippet's.
  patchWrite(process.stdout, 'stdout');
  patchWrite(process.stderr, 'stderr');
  patchDirectWrites();
  const threadRecord = { k: 'thread', main: mainFile, us: now() };
  if (parent) threadRecord.parent = parent;
  emit(threadRecord);

  process.on('uncaughtExceptionMonitor', () => {
    const record = { k: 'died', exec: currentExec(), us: now() };
    busy = true;
    try {
      addListeners(record, true);
    } finally {
      busy = false;
    }
    dying = true;
    emit(record);
  });

  const hook = asyncHooks.createHook({
    init,
    before: runRecord('before'),
    after: runRecord('after'),
    promiseResolve,
  });
  const ourHook = patchAsyncHooks(hook);
  hideFrames();
  patchQueueMicrotask(ourHook);
  ourHook.enable();
}
