"""Races found by reason: one run's margins refuse every racy snippet and pass every steady one.

Each case is judged from a single run, with no pattern for it and no repeated runs: a racy
snippet must be refused on every run (whichever order it printed), a steady one never, and every
deterministic truth case of tests/cases is steady. A run the machine disturbed runs again (as in a
build), so a loaded machine changes nothing here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from looplens.checks.judge import judge
from looplens.margins import DEFAULT_MIN_MARGIN_MS, races
from looplens.snippet import FILE_LANGUAGES, Snippet
from looplens.trace import Trace
from looplens.tracing.run import DEFAULT_LIMITS, undisturbed_run

CASES = Path(__file__).parent / "cases"
#: What the cases open in the sandbox (workers, servers, child processes): no order changes.
OPEN_ALL = ("worker", "net", "child")

RACY = {
    "timer from a microtask against an immediate from an earlier timer": (
        "race.js",
        """\
setTimeout(() => setImmediate(() => console.log("immediate")), 0);
Promise.resolve().then(() => setTimeout(() => console.log("timeout"), 0));
""",
    ),
    "a 1 ms timer against an immediate in the main script": (
        "race.js",
        """\
setTimeout(() => console.log("timeout"), 1);
setImmediate(() => console.log("immediate"));
""",
    ),
    "fs.stat against a 2 ms timer": (
        "race.js",
        """\
const fs = require("node:fs");
setTimeout(() => console.log("timeout"), 2);
fs.stat(__filename, () => console.log("stat"));
""",
    ),
    "two thread-pool jobs of the same size": (
        "race.js",
        """\
const crypto = require("node:crypto");
for (const name of ["a", "b"]) {
  crypto.pbkdf2("secret", "salt", 2000, 32, "sha256", () => console.log(name));
}
""",
    ),
    "two workers posting to the main thread": (
        "race.js",
        """\
const { Worker } = require("node:worker_threads");
for (const name of ["a", "b"]) {
  const code = `require("node:worker_threads").parentPort.postMessage("${name}")`;
  const worker = new Worker(code, { eval: true });
  worker.on("message", (message) => console.log("from", message));
}
""",
    ),
    "two to_thread jobs read with as_completed": (
        "race.py",
        """\
import asyncio
import time


def job(name):
    time.sleep(0.01)
    return name


async def main():
    jobs = [asyncio.to_thread(job, "a"), asyncio.to_thread(job, "b")]
    for done in asyncio.as_completed(jobs):
        print(await done)


asyncio.run(main())
""",
    ),
    "a server reading two clients that each write once": (
        "race.js",
        """\
const net = require("node:net");
let left = 2;
const server = net.createServer((socket) => {
  socket.on("data", (data) => {
    console.log("server got", String(data));
    socket.end();
    if (--left === 0) server.close();
  });
});
server.listen(0, "127.0.0.1", () => {
  for (const name of ["a", "b"]) {
    const client = net.connect(server.address().port, "127.0.0.1", () => client.write(name));
  }
});
""",
    ),
    "an executor job against a sleep of the same length": (
        "race.py",
        """\
import asyncio
import time


async def sleeper():
    await asyncio.sleep(0.02)
    print("slept")


async def main():
    task = asyncio.create_task(sleeper())
    await asyncio.to_thread(time.sleep, 0.02)
    print("job done")
    await task


asyncio.run(main())
""",
    ),
}

STEADY = {
    "a 1 ms timer and an immediate, then 20 ms of work": (
        "steady.js",
        """\
setTimeout(() => console.log("timeout"), 1);
setImmediate(() => console.log("immediate"));
const end = Date.now() + 20;
while (Date.now() < end) {}
""",
    ),
    "a 100 ms timer against an immediate": (
        "steady.js",
        """\
setTimeout(() => console.log("timeout"), 100);
setImmediate(() => console.log("immediate"));
""",
    ),
    "an immediate against a timer, both from an I/O callback": (
        "steady.js",
        """\
require("node:fs").stat(__filename, () => {
  setTimeout(() => console.log("timeout"), 0);
  setImmediate(() => console.log("immediate"));
});
""",
    ),
    "an executor job 40 ms longer than a virtual-time sleep": (
        "steady.py",
        """\
import asyncio
import time


async def sleeper():
    await asyncio.sleep(0.01)
    print("slept")


async def main():
    task = asyncio.create_task(sleeper())
    await asyncio.get_running_loop().run_in_executor(None, time.sleep, 0.05)
    print("executor done")
    await task


asyncio.run(main())
""",
    ),
    "to_thread jobs of 10 ms and 80 ms read with as_completed": (
        "steady.py",
        """\
import asyncio
import time


def job(name, seconds):
    time.sleep(seconds)
    return name


async def main():
    jobs = [asyncio.to_thread(job, "slow", 0.08), asyncio.to_thread(job, "fast", 0.01)]
    for done in asyncio.as_completed(jobs):
        print(await done)


asyncio.run(main())
""",
    ),
    "two equal to_thread jobs gathered, printed in the order asked": (
        "steady.py",
        """\
import asyncio
import time


def job(name):
    time.sleep(0.01)
    return name


async def main():
    print(await asyncio.gather(asyncio.to_thread(job, "a"), asyncio.to_thread(job, "b")))


asyncio.run(main())
""",
    ),
    "a task prints, then awaits what a thread hands over, then prints it": (
        "steady.py",
        """\
import asyncio
import threading


def work(loop, future):
    loop.call_soon_threadsafe(future.set_result, "from the thread")


async def main():
    loop = asyncio.get_running_loop()
    future = loop.create_future()
    threading.Thread(target=work, args=(loop, future)).start()
    await asyncio.sleep(0)
    print("after a pass of the loop")
    print("got", await future)


asyncio.run(main())
""",
    ),
    "a client reads what the server wrote to it": (
        "steady.js",
        """\
const net = require("node:net");
const server = net.createServer((socket) => {
  console.log("server: connected");
  socket.end("hello");
});
server.listen(0, "127.0.0.1", () => {
  const client = net.connect(server.address().port, "127.0.0.1");
  client.on("data", (data) => console.log("client:", String(data)));
  client.on("end", () => server.close());
});
""",
    ),
}


def one_run(name: str, source: str, allow: tuple[str, ...] = ()) -> tuple[Snippet, Trace]:
    language = FILE_LANGUAGES[Path(name).suffix]
    snippet = Snippet("case", language, name, source, "docs/case.md", 1, allow=allow)
    return snippet, undisturbed_run(snippet, DEFAULT_LIMITS)


@pytest.mark.parametrize("case", RACY, ids=list(RACY))
def test_a_racy_snippet_is_refused_from_one_run(case: str) -> None:
    snippet, run = one_run(*RACY[case], OPEN_ALL)
    verdict = judge(snippet, [run]).verdict
    assert verdict is not None, f"{case}: let through, with decisions {run.decisions}"
    assert "to spare" in verdict.message()


@pytest.mark.parametrize("case", STEADY, ids=list(STEADY))
def test_a_steady_snippet_is_never_refused(case: str) -> None:
    snippet, run = one_run(*STEADY[case], OPEN_ALL)
    verdict = judge(snippet, [run]).verdict
    assert verdict is None, verdict.message()


TRUTH_CASES = sorted(
    path for path in CASES.rglob("*") if path.suffix in FILE_LANGUAGES and path.stem != "README"
)


@pytest.mark.parametrize("path", TRUTH_CASES, ids=lambda path: path.name)
def test_every_deterministic_truth_case_is_proven_steady(path: Path) -> None:
    _, run = one_run(path.name, path.read_text(encoding="utf-8"), OPEN_ALL)
    assert races(run, DEFAULT_MIN_MARGIN_MS) == (), f"{path.name}: a race in a fixed case"
