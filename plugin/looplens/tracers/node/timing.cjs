'use strict';
// What a record needs to tell a race from a steady order: libuv's loop count (which pass of the
// loop a callback ran in) and the thread's run-queue delay (how long the machine kept it waiting
// to run: a stall that a margin has to survive).

const fs = require('node:fs');

// Taken before the snippet runs: it may replace them.
const openSync = fs.openSync;
const readSync = fs.readSync;
const closeSync = fs.closeSync;
const readdirSync = fs.readdirSync;
// The file's second field is the time (ns) the thread spent runnable but not running. Opened
// through /proc/thread-self, the descriptor stays this thread's (the sandbox lets Node read
// exactly this path, sandbox/node_permissions.py).
const SCHEDSTAT = '/proc/thread-self/schedstat';
// Every thread of the process, libuv's thread pool among them (it runs no JavaScript, so no
// tracer of its own reads its delay).
const TASKS = '/proc/self/task';
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
      return delayField(buffer, readSync(fd, buffer, 0, BUFFER_SIZE, 0));
    } catch {
      return undefined;
    }
  };
}

// The second field of a schedstat text, ns, as µs; undefined if it is not there.
function delayField(buffer, size) {
  const text = buffer.latin1Slice(0, size);
  const start = text.indexOf(' ') + 1;
  const end = text.indexOf(' ', start);
  if (start === 0 || end === -1) return undefined;
  return Math.floor(Number(text.slice(start, end)) / 1000);
}

// A reader of the run-queue delay of all the process's threads together, in µs (undefined where
// the kernel does not say): what a thread-pool job's completion may have been held back by.
// Threads come and go, so each reading lists them again.
function processRunQueueDelay() {
  const buffer = Buffer.alloc(BUFFER_SIZE);
  return () => {
    let total = 0;
    try {
      for (const tid of readdirSync(TASKS)) {
        let fd = -1;
        try {
          fd = openSync(`${TASKS}/${tid}/schedstat`, 'r');
          total += delayField(buffer, readSync(fd, buffer, 0, BUFFER_SIZE, 0)) ?? 0;
        } catch {
          // A thread that ended since the listing.
        } finally {
          if (fd !== -1) closeSync(fd);
        }
      }
    } catch {
      return undefined;
    }
    return total;
  };
}

module.exports = { loopCounter, runQueueDelay, processRunQueueDelay };
