'use strict';
// What keeps the tracer out of the snippet's sight: its files (in require.cache, in
// process.execArgv, in stacks), the functions it replaces, and the frames that its async hook
// makes Node add. Node calls native callbacks through an extra frame (the callback trampoline)
// only while a hook with before/after is enabled, and the tracer's hook always has them: the
// snippet's own hooks are followed to tell whether a plain run would have that frame.

const asyncHooks = require('node:async_hooks');
const fs = require('node:fs');
const path = require('node:path');

// Every file of the tracer is in this folder, and nothing else is: a frame of any of them is the
// tracer's.
const TRACER_FOLDER = __dirname;
// The file that Node is told to --require (sandbox/node_permissions.py names it).
const PRELOAD_FILE = path.join(TRACER_FOLDER, 'preload.cjs');
const SEPARATOR = path.sep;
const TRACER_PREFIX = TRACER_FOLDER + SEPARATOR;

// Only string methods: the snippet may replace what the tracer would call (path.dirname).
function isTracerFile(file) {
  return typeof file === 'string' && file.startsWith(TRACER_PREFIX) &&
    !file.includes(SEPARATOR, TRACER_PREFIX.length);
}

function isPreload(file) {
  if (typeof file !== 'string') return false;
  const absolute = path.resolve(file);
  if (absolute === PRELOAD_FILE) return true;
  try {
    return fs.realpathSync(absolute) === PRELOAD_FILE;
  } catch {
    return false;
  }
}

// `hidden`: the sandbox's own flags; `--require <the preload>` goes too.
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

// The snippet's require.cache lists only its own modules, as in a plain run, and so does the
// loader's cache of resolved paths (Module._pathCache).
function forgetTracerModules() {
  for (const file of Object.keys(require.cache)) {
    if (isTracerFile(file)) delete require.cache[file];
  }
  const resolved = require('node:module')._pathCache ?? {};
  for (const [request, file] of Object.entries(resolved)) {
    if (isTracerFile(file)) delete resolved[request];
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

// The frame through which Node calls native callbacks while an async hook has before/after.
function isTrampoline(callSite) {
  return callSite.getFileName() === 'node:internal/async_hooks' &&
    callSite.getFunctionName() === 'callbackTrampoline';
}

// Follow the snippet's own async hooks: while one is enabled, a plain run has the trampoline
// frames (if it has before or after) and the slow queueMicrotask too. `ours` is the tracer's
// hook; the returned functions switch it without counting as the snippet's.
function followUserHooks(state, ours) {
  const createHook = replaceMethod(asyncHooks, 'createHook', function createHook_(callbacks) {
    const hook = createHook.call(this, callbacks);
    const hasRuns = Boolean(callbacks && (callbacks.before || callbacks.after));
    state.userHooks.set(hook, { enabled: false, hasRuns });
    return hook;
  });
  const prototype = Object.getPrototypeOf(ours);
  const enable = replaceMethod(prototype, 'enable', function enable_() {
    if (this !== ours) {
      const hookState = state.userHooks.get(this) || { enabled: false, hasRuns: true };
      state.userHooks.set(this, { ...hookState, enabled: true });
    }
    return enable.call(this);
  });
  const disable = replaceMethod(prototype, 'disable', function disable_() {
    const hookState = state.userHooks.get(this);
    if (hookState) state.userHooks.set(this, { ...hookState, enabled: false });
    return disable.call(this);
  });
  const executionAsyncResource = replaceMethod(
    asyncHooks,
    'executionAsyncResource',
    function executionAsyncResource_() {
      state.usesExecutionAsyncResource = true;
      return executionAsyncResource.call(this);
    },
  );
  return { enable: () => enable.call(ours), disable: () => disable.call(ours) };
}

function userHooksEnabled(state, withRuns) {
  for (const hookState of state.userHooks.values()) {
    if (hookState.enabled && (!withRuns || hookState.hasRuns)) return true;
  }
  return false;
}

// Frames that a plain run would not have: the tracer's own, and the trampoline that Node adds
// around native callbacks only because the tracer's hook has before/after.
function hideFrames(state) {
  const prepare = Error.prepareStackTrace;
  if (typeof prepare !== 'function') return;
  function prepareStackTrace(error, trace) {
    if (!Array.isArray(trace)) return prepare(error, trace);
    // Node goes through the trampoline while a hook with before/after is enabled, or any hook
    // once executionAsyncResource() was called.
    const trampolines = userHooksEnabled(state, true) ||
      (state.usesExecutionAsyncResource && userHooksEnabled(state, false));
    const visible = trace.filter((callSite) => {
      if (isTracerFile(callSite.getFileName())) return false;
      return trampolines || !isTrampoline(callSite);
    });
    return prepare(error, visible);
  }
  Object.defineProperty(prepareStackTrace, 'name', { value: prepare.name });
  Error.prepareStackTrace = prepareStackTrace;
}

module.exports = {
  isTracerFile, isTrampoline, hideExecArgv, forgetTracerModules, replaceMethod, followUserHooks,
  userHooksEnabled, hideFrames,
};
