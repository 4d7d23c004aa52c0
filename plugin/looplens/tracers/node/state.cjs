'use strict';
// One thread's tracer: the settings it was started with (by the host, or by the thread that
// created its worker), the state that its parts share, and the side channel its records go to.

const asyncHooks = require('node:async_hooks');
const fs = require('node:fs');
const path = require('node:path');
const workerThreads = require('node:worker_threads');

const { loopCounter, runQueueDelay } = require(path.join(__dirname, 'timing.cjs'));

const { isMainThread, threadId } = workerThreads;
const TRACE_FD_VARIABLE = 'LOOPLENS_TRACE_FD';
const TRACE_LIMIT_VARIABLE = 'LOOPLENS_TRACE_LIMIT';
// The sandbox's own Node flags (JSON list): a plain run's process.execArgv does not show them.
const HIDDEN_ARGS_VARIABLE = 'LOOPLENS_HIDDEN_ARGS';
const ENVIRONMENT_KEY = 'looplens';
// Enough resources for any teaching snippet; past it, records stop but writes are still recorded.
// The host sets it (the `events` limit); a worker gets it from its main thread's settings.
const DEFAULT_MAX_RESOURCES = 20000;
// Past the cap, the queue of a printing callback comes from its resource type; so many at most.
const MAX_TYPES = 1000000;
// Taken before the tracer replaces fs.writeSync: its records are not the snippet's output.
const writeSync = fs.writeSync;

// The settings, or null for an untraced run. The variables are deleted: the snippet does not see
// them, and child processes (which get nothing) run plain.
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
    fd, limit: Number.isInteger(limit) && limit > 0 ? limit : DEFAULT_MAX_RESOURCES, hidden,
  };
  workerThreads.setEnvironmentData(ENVIRONMENT_KEY, data);
  return data;
}

// The new thread's tracer learns where it was created (its clock starts there): Node clones this
// data into the worker after creating its WORKER resource, `id`.
function shareWithWorker(state, id) {
  workerThreads.setEnvironmentData(ENVIRONMENT_KEY, {
    fd: state.traceFd, parent: [state.thread, id], limit: state.maxResources,
    hidden: state.hiddenArgs,
  });
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

function createState({ fd, parent, limit, hidden = [] }) {
  return {
    traceFd: fd,
    parent,
    maxResources: limit ?? DEFAULT_MAX_RESOURCES,
    hiddenArgs: hidden,
    thread: isMainThread ? 'main' : `worker ${threadId}`,
    mainFile: resolveMain(process.argv[1]),
    // Past the cap, the type of each resource: a write in its callback takes its queue from it.
    types: new Map(),
    timerIds: new WeakMap(),
    // Resources that the tracer itself made (its writes): their runs are not the snippet's.
    ignored: new Set(),
    // TCP sockets whose ports are not recorded yet, by id (weakly: a closed one may go).
    sockets: new Map(),
    resources: 0,
    truncated: false,
    // Past the cap, the runs of resources recorded before it are still recorded (a timer set
    // early may print late); asyncIds only grow, so those are the ids up to this one.
    lastRecorded: 0,
    // True while the tracer runs (its own records, or a traced write): resources created then
    // are the tracer's or the stream's, not the snippet's, and are not recorded.
    busy: false,
    // The id of the queueMicrotask callback running now (negative: the tracer numbers them).
    microtask: 0,
    microtasks: 0,
    // What a plain run would have: hooks that the snippet enabled, and whether it asked for
    // executionAsyncResource (both make Node use the callback trampoline too).
    userHooks: new Map(),
    usesExecutionAsyncResource: false,
    // The resources whose callbacks run now, innermost last (the main script's outside them all):
    // code that runs in another resource's context was called by Node outside any callback (the
    // listeners of process events, see addListeners in stack.cjs).
    running: [],
    scriptExec: asyncHooks.executionAsyncId(),
    // From the uncaught error's report to the end of its callback, Node calls process listeners.
    dying: false,
    // Where Node emits 'uncaughtExceptionMonitor' (its first listener is the tracer's): its other
    // listeners are not 'uncaughtException' ones, though Node calls both from the same function.
    monitorSite: null,
    refreshPatched: false,
    // The ids of promises: their runs are microtasks, whose records stay cheap (no loop count or
    // run-queue delay).
    promiseIds: new Set(),
    // The key of a MessagePort's close method (recordPortCloses): undefined until a port is made.
    portCloseSymbol: undefined,
    loopCount: loopCounter(),
    runQueueDelay: runQueueDelay(),
  };
}

function emit(state, record) {
  record.th = state.thread;
  writeSync(state.traceFd, `${JSON.stringify(record)}\n`);
}

// Microseconds on the monotonic clock that Python's time.monotonic() reads too: the Python side
// times the output it reads with it, to tell when bytes that nobody recorded came out.
function now() {
  const [seconds, nanoseconds] = process.hrtime();
  return seconds * 1e6 + Math.floor(nanoseconds / 1e3);
}

function currentExec(state) {
  return state.microtask || asyncHooks.executionAsyncId();
}

function remember(state, id, type) {
  if (state.types.size < MAX_TYPES) state.types.set(id, type);
}

module.exports = {
  readSettings, shareWithWorker, createState, emit, now, currentExec, remember,
};
