'use strict';
// The records of the snippet's async resources: from the tracer's async hook, one for each
// resource that the snippet makes (where, by which API), each run of its callback, each promise
// resolution, timer refresh and handle close; from the tracer's queueMicrotask, those of its
// callbacks; from its 'uncaughtExceptionMonitor' listener, the death of a callback.

const asyncHooks = require('node:async_hooks');
const path = require('node:path');

const { replaceMethod, userHooksEnabled } = require(path.join(__dirname, 'hiding.cjs'));
const {
  STACK_LIMIT, addListeners, captureStack, describe,
} = require(path.join(__dirname, 'stack.cjs'));
const { recordPorts, watchSocket } = require(path.join(__dirname, 'sends.cjs'));
const {
  currentExec, emit, now, remember, shareWithWorker,
} = require(path.join(__dirname, 'state.cjs'));

// Handles whose close(callback) runs the callback from the loop's close phase.
const HANDLE_TYPES = new Set([
  'TCPWRAP', 'TCPSERVERWRAP', 'PIPEWRAP', 'PIPESERVERWRAP', 'UDPWRAP', 'TTYWRAP', 'PROCESSWRAP',
  'SIGNALWRAP', 'FSEVENTWRAP', 'STATWATCHER', 'MESSAGEPORT',
]);

// Each callback only calls its recording function. recordInit reads the stack from the
// callback's own frame on (captureStack(…, recordInit)): its STACK_LIMIT frames are the hook's
// and those below it, however the recording is split into functions.
function createTracerHook(state) {
  return asyncHooks.createHook({
    init(id, type, trigger, resource) {
      recordInit(state, id, type, trigger, resource);
    },
    before(id) {
      recordRun(state, 'before', id);
    },
    after(id) {
      recordRun(state, 'after', id);
    },
    promiseResolve(id) {
      recordResolve(state, id);
    },
  });
}

function recordInit(state, id, type, trigger, resource) {
  if (state.busy) {
    state.ignored.add(id);
    return;
  }
  if (type === 'WORKER') shareWithWorker(state, id);
  if (type === 'Timeout') {
    state.timerIds.set(resource, id);
    patchRefresh(state, Object.getPrototypeOf(resource));
  }
  if (state.truncated) {
    // Past the limit, a write still needs the queue of the resource it runs in.
    remember(state, id, type);
    return;
  }
  // Only recorded promises: past the limit, an endless chain would grow the set without bound.
  if (type === 'PROMISE') state.promiseIds.add(id);
  const madeAt = now();
  state.busy = true;
  try {
    state.resources += 1;
    if (state.resources > state.maxResources) {
      state.truncated = true;
      remember(state, id, type);
      emit(state, { k: 'truncated' });
      return;
    }
    const record = { k: 'init', id, type, trigger, exec: currentExec(state) };
    const frame = describe(type, captureStack(STACK_LIMIT, recordInit));
    if (frame) {
      record.line = frame.line;
      if (frame.file !== state.mainFile) record.file = frame.file;
      if (frame.api) record.api = frame.api;
      if (frame.direct) record.direct = true;
    }
    // The delay after Node's clamping (0 becomes 1); an interval's runs are this far apart.
    if (type === 'Timeout') record.delay = resource._idleTimeout;
    if (type !== 'PROMISE') stamp(state, record, madeAt);
    if (HANDLE_TYPES.has(type) && typeof resource.close === 'function') wrapClose(state, resource);
    watchSocket(state, id, type, resource);
    if (type === 'MESSAGEPORT') recordPortCloses(state, resource);
    addListeners(state, record);
    emit(state, record);
    state.lastRecorded = id;
  } finally {
    state.busy = false;
  }
}

function recordRun(state, kind, id) {
  state.dying = false;
  if (kind === 'before') {
    state.running.push(id);
  } else {
    const at = state.running.lastIndexOf(id);
    if (at !== -1) state.running.length = at;
  }
  if (state.busy || state.microtask !== 0 || id > state.lastRecorded || state.ignored.has(id)) {
    return;
  }
  state.busy = true;
  try {
    if (kind === 'before') recordPorts(state, id);
    const record = { k: kind, id, us: now() };
    if (!state.promiseIds.has(id) && id > 0) {
      if (kind === 'before') {
        const count = state.loopCount();
        if (count !== undefined) record.lc = count;
      }
      const delay = state.runQueueDelay();
      if (delay !== undefined) record.rd = delay;
    }
    emit(state, record);
  } finally {
    state.busy = false;
  }
}

// When a macrotask's resource was made or its run started: µs, and the thread's run-queue delay
// so far (µs), the stall that a margin between two such times has to survive.
function stamp(state, record, us = now()) {
  record.us = us;
  const delay = state.runQueueDelay();
  if (delay !== undefined) record.rd = delay;
}

function recordResolve(state, id) {
  if (state.busy || id > state.lastRecorded) return;
  state.busy = true;
  try {
    const record = { k: 'resolve', id, exec: currentExec(state) };
    addListeners(state, record);
    emit(state, record);
  } finally {
    state.busy = false;
  }
}

function wrapClose(state, resource) {
  const close = resource.close;
  Object.defineProperty(resource, 'close', {
    value: function close_(callback, ...rest) {
      if (typeof callback !== 'function') return close.call(this, callback, ...rest);
      return close.call(this, function onClose(...args) {
        if (!state.busy) emit(state, { k: 'close', id: currentExec(state) });
        return callback.apply(this, args);
      }, ...rest);
    },
    writable: true,
    enumerable: false,
    configurable: true,
  });
}

// A MessagePort's 'close' comes from the loop's close phase: its handle's uv_close callback
// (HandleWrap::OnClose in Node's C++) calls the port's handle_onclose method, which emits it.
// That method is fixed on the prototype, so each port gets its own, hidden like `close`.
function recordPortCloses(state, port) {
  const prototype = Object.getPrototypeOf(port);
  if (state.portCloseSymbol === undefined) {
    state.portCloseSymbol = prototype ? Object.getOwnPropertySymbols(prototype)
      .find((key) => key.description === 'handle_onclose') ?? null : null;
  }
  const symbol = state.portCloseSymbol;
  if (symbol === null || typeof port[symbol] !== 'function') return;
  const onClose = port[symbol];
  Object.defineProperty(port, symbol, {
    value: function onclose(...args) {
      if (!state.busy) emit(state, { k: 'close', id: currentExec(state) });
      return onClose.apply(this, args);
    },
    writable: false,
    enumerable: false,
    configurable: true,
  });
}

// timeout.refresh() starts the timer's delay again from now.
function patchRefresh(state, prototype) {
  if (state.refreshPatched || typeof prototype.refresh !== 'function') return;
  state.refreshPatched = true;
  const refresh = replaceMethod(prototype, 'refresh', function refresh_() {
    const id = state.timerIds.get(this);
    if (!state.busy && !state.truncated && id !== undefined && id <= state.lastRecorded) {
      state.busy = true;
      try {
        emit(state, { k: 'refresh', id, exec: currentExec(state), us: now() });
      } finally {
        state.busy = false;
      }
    }
    return refresh.call(this);
  });
}

// The first 'uncaughtExceptionMonitor' listener: the snippet's callback died here.
function recordDeaths(state) {
  process.on('uncaughtExceptionMonitor', () => {
    const record = { k: 'died', exec: currentExec(state), us: now() };
    state.busy = true;
    try {
      addListeners(state, record, true);
    } finally {
      state.busy = false;
    }
    state.dying = true;
    emit(state, record);
  });
}

// queueMicrotask takes a fast path (the callback itself is the microtask) only while no async
// hook is enabled. With the tracer's hook disabled for the call, it takes the same path as a
// plain run; two marker microtasks just before and after the callback tell when it runs
// (nothing can be queued between three microtasks queued in one go).
//
// `ourHook`: the tracer's async hook, as followUserHooks switches it.
function patchQueueMicrotask(state, ourHook) {
  const queue = globalThis.queueMicrotask;
  // Named as the function it replaces: stack.cjs names the API of a frame by its function name.
  const replacement = function queueMicrotask(callback) {
    if (typeof callback !== 'function' || state.busy || userHooksEnabled(state, false)) {
      return queue(callback);
    }
    state.microtasks += 1;
    const id = -state.microtasks;
    if (!state.truncated) {
      recordMicrotask(state, id);
    } else {
      remember(state, id, 'Microtask');
    }
    ourHook.disable();
    try {
      queue(() => {
        if (!state.truncated) emit(state, { k: 'before', id, us: now() });
        state.microtask = id;
      });
      queue(callback);
      queue(() => {
        state.microtask = 0;
        if (!state.truncated) emit(state, { k: 'after', id, us: now() });
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

// Its stack starts at the replacement queueMicrotask, as a resource's starts at the hook.
function recordMicrotask(state, id) {
  state.busy = true;
  try {
    const record = { k: 'init', id, type: 'Microtask', trigger: 0, exec: currentExec(state) };
    const frame = describe('Microtask', captureStack(STACK_LIMIT, recordMicrotask));
    if (frame) {
      record.line = frame.line;
      if (frame.file !== state.mainFile) record.file = frame.file;
      record.api = 'queueMicrotask';
      record.direct = true;
    }
    addListeners(state, record);
    emit(state, record);
  } finally {
    state.busy = false;
  }
}

module.exports = { createTracerHook, patchQueueMicrotask, recordDeaths };
