'use strict';
// Reading the stack: which frames are the snippet's, the public name of the API that the
// snippet called to make a resource, and the process event whose listener runs now.

const fs = require('node:fs');
const path = require('node:path');
const { fileURLToPath } = require('node:url');

const { isTracerFile, isTrampoline } = require(path.join(__dirname, 'hiding.cjs'));

// The user frame can sit below hook, timer and promise internals and the ESM loader.
const STACK_LIMIT = 40;
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

// The user file of each file name that call sites give (null: the tracer's own).
const fileNames = new Map();
const sources = new Map();

// Call sites name ES modules by URL and builtins by null or `node:…`; user files become paths.
function userFile(callSite) {
  // An async frame (`at async f`) says who awaits, not who called: it is no user frame here.
  if (callSite.isAsync()) return null;
  const name = callSite.getFileName();
  // wasm://… frames are WebAssembly that Node runs for itself (fetch's HTTP parser).
  if (!name || name.startsWith('node:') || name.startsWith('wasm:')) return null;
  let file = fileNames.get(name);
  if (file === undefined) {
    const named = name.startsWith('file:') ? fileURLToPath(name) : name;
    file = isTracerFile(named) ? null : named;
    fileNames.set(name, file);
  }
  return file;
}

// The call sites from the caller of `callee` on (by default, from the function that calls this).
function captureStack(limit = STACK_LIMIT, callee = captureStack) {
  const savedPrepare = Error.prepareStackTrace;
  const savedLimit = Error.stackTraceLimit;
  Error.prepareStackTrace = (_error, callSites) => callSites;
  Error.stackTraceLimit = limit;
  const holder = {};
  Error.captureStackTrace(holder, callee);
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

// A frame without a file: V8's builtins (new Promise, Promise.then, Array.map).
function builtinName(callSite, name) {
  const type = callSite.getTypeName();
  if (callSite.isConstructor()) return `new ${name}`;
  if (type === 'Promise' && ['then', 'catch', 'finally'].includes(name)) return `.${name}`;
  return type && type !== 'Object' ? `${type}.${name}` : name || null;
}

// The user-facing name of the call that created a resource: the frame just above the user frame
// is the public API that the user called (setTimeout, Promise.then, fs.readFile). An `await`
// has no such frame: the promise hook is called straight from the async function.
function apiName(callSite, userSite) {
  if (!callSite) return null;
  const name = callSite.getFunctionName() || '';
  const file = callSite.getFileName();
  if (!file) return builtinName(callSite, name);
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
  const called = [method, calledName(userSite), bare]
    .find((each) => exportsFunction(moduleName, each));
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
        return !name || isTracerFile(name) || name === 'node:internal/async_hooks';
      });
    } else {
      direct = !DIRECT_APIS.has(type) || DIRECT_APIS.get(type).includes(api);
    }
    return { file, line: callSites[index].getLineNumber(), api, direct };
  }
  return null;
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
function processEvent(state, caller) {
  if (!caller) return process._exiting ? 'exit' : 'beforeExit';
  const file = caller.getFileName();
  // process._fatalException is an anonymous function: only its method name says which.
  const name = caller.getFunctionName() || caller.getMethodName();
  if (file === 'node:internal/process/execution' && name === '_fatalException') {
    if (siteOf(caller) === state.monitorSite) return 'uncaughtExceptionMonitor';
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
// uncaught error. `listeners` names the events, innermost first (an 'exit' listener runs inside an
// 'uncaughtException' listener that calls process.exit()); `rejections` says that the outermost
// one runs from the rejections step. Only code whose context is not the innermost running
// callback's, or that runs while Node is dying or exiting, can be in one: only its stack is
// read. `monitor`: the record is the tracer's own 'uncaughtExceptionMonitor' listener.
function addListeners(state, record, monitor = false) {
  const exec = record.exec;
  const running = state.running;
  const innermost = running.length > 0 ? running[running.length - 1] : state.scriptExec;
  const quiet = exec !== 0 && !process._exiting && !state.dying && !monitor;
  if (quiet && (exec === innermost || state.microtask !== 0)) {
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
      state.monitorSite = caller ? siteOf(caller) : null;
      skip = false;
      continue;
    }
    const event = processEvent(state, caller);
    if (event !== null) listeners.push(event);
  }
  if (listeners.length > 0) record.listeners = listeners;
  if (listeners.length > 0 && rejections) record.rejections = true;
}

module.exports = { STACK_LIMIT, userFile, captureStack, describe, addListeners };
