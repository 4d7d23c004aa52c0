'use strict';
// looplens tracer, loaded with `node --require <this file> SNIPPET`.
//
// It writes one JSON record per line to the file descriptor named by LOOPLENS_TRACE_FD and never
// to stdout or stderr: the snippet's real output must stay byte-identical to a plain run. The
// records are raw facts (async resources, their runs, promise resolutions, writes); the Python
// side (looplens/tracing/node/records.py) turns them into a Trace. Worker threads load this file
// too, because they inherit --require through Node's own copy of the exec arguments, and write to
// the same descriptor.
//
// This file starts the tracer; its parts are the other files of this folder, which the sandbox
// lets a run read (sandbox/node_permissions.py). They share one state object (state.cjs).
//
// A plain run must not be able to tell it is traced, so the tracer hides its traces:
// - the environment variable is read and deleted (workers get the descriptor through the
//   worker environment data instead; child processes get nothing and do not trace);
// - `--require <this file>` is removed from process.execArgv (a Worker started without
//   execArgv still inherits it: Node copies its C++ argument list, not this array; fork() uses
//   this array, so child processes run plain, as they do without the tracer);
// - its files are removed from require.cache;
// - an async hook with before/after makes Node call native callbacks through an extra JS frame
//   (callbackTrampoline in node:internal/async_hooks), and any enabled hook makes queueMicrotask
//   wrap its callback in an AsyncResource (three more frames). Error.prepareStackTrace drops the
//   trampoline frames (and those of any file of the tracer), and queueMicrotask runs the plain
//   fast path with two marker microtasks around the callback to see it run. Both follow the
//   snippet's own async hooks: while it has one enabled, a plain run has those frames too, and
//   keeps them.
// Known limits: Error.prepareStackTrace is another function (named like Node's), and the tracer's
// own frames (a patched write, queueMicrotask) are in the middle of a stack only while it runs:
// an error thrown right there with a stack deeper than Error.stackTraceLimit shows one frame
// fewer than a plain run. A Worker given its own execArgv does not load the tracer: its lines
// belong to the main thread's callback that relays them.

const path = require('node:path');

const part = (name) => require(path.join(__dirname, name));
const {
  followUserHooks, forgetTracerModules, hideExecArgv, hideFrames,
} = part('hiding.cjs');
const { captureOutput } = part('output.cjs');
const { createTracerHook, patchQueueMicrotask, recordDeaths } = part('recording.cjs');
const { recordSends } = part('sends.cjs');
const { createState, emit, now, readSettings } = part('state.cjs');

const settings = readSettings();
hideExecArgv(settings?.hidden ?? []);
forgetTracerModules();
if (settings !== null) install(settings);

// The order matters: the streams exist before the hook is created (see captureOutput), and the
// hook is enabled last, once everything it records through is in place.
function install(threadSettings) {
  const state = createState(threadSettings);
  captureOutput(state);
  const threadRecord = { k: 'thread', main: state.mainFile, us: now() };
  if (state.parent) threadRecord.parent = state.parent;
  emit(state, threadRecord);
  recordDeaths(state);
  recordSends(state);
  const hook = createTracerHook(state);
  const ourHook = followUserHooks(state, hook);
  hideFrames(state);
  patchQueueMicrotask(state, ourHook);
  ourHook.enable();
}
