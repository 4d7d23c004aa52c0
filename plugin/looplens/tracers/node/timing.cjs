'use strict';
// What a record needs to tell a race from a steady order: libuv's loop count (which pass of the
// loop a callback ran in) and the thread's run-queue delay (how long the machine kept it waiting
// to run: a stall that a margin has to survive).

const fs = require('node:fs');

// Taken before the snippet runs: it may replace them.
const openSync = fs.openSync;
const readSync = fs.readSync;
// The file's second field is the time (ns) the thread spent runnable but not running. Opened
// through /proc/thread-self, the descriptor stays this thread's (the sandbox lets Node read
// exactly this path, sandbox/node_permissions.py).
const SCHEDSTAT = '/proc/thread-self/schedstat';
const BUFFER_SIZE = 96;

// libuv counts a pass of the loop just before it polls (uv_run in src/unix/core.c). Node 20.18+
// and 22.8+ show the count; on older ones `lc` is left out and the Python side derives turns from
// the order of the phases alone.
function loopCounter() {
  let nodeTiming = null;
  try {
    nodeTiming = require('node:perf_hooks').performance.nodeTiming;
    if (typeof nodeTiming?.uvMetricsInfo?.loopCount !== 'number') nodeTiming = null;
  } catch {
    nodeTiming = null;
  }
  return nodeTiming === null ? () => undefined : () => nodeTiming.uvMetricsInfo.loopCount;
}

// A reader of this thread's run-queue delay in µs, or one that gives undefined where the file
// cannot be read. Opened once, as the thread's tracer starts (before the snippet's code).
function runQueueDelay() {
  let fd = -1;
  try {
    fd = openSync(SCHEDSTAT, 'r');
  } catch {
    return () => undefined;
  }
  const buffer = Buffer.alloc(BUFFER_SIZE);
  return () => {
    try {
      const size = readSync(fd, buffer, 0, BUFFER_SIZE, 0);
      const text = buffer.latin1Slice(0, size);
      const start = text.indexOf(' ') + 1;
      const end = text.indexOf(' ', start);
      if (start === 0 || end === -1) return undefined;
      return Math.floor(Number(text.slice(start, end)) / 1000);
    } catch {
      return undefined;
    }
  };
}

module.exports = { loopCounter, runQueueDelay };
