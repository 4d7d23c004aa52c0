import asyncio
from typing import Any


def announce(future: asyncio.Future[Any]) -> None:
    print("done callback:", future.result())


async def work() -> int:
    await asyncio.sleep(0.1)
    print("work: returning")
    return 42


async def main() -> None:
    task = asyncio.create_task(work())
    task.add_done_callback(announce)
    future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    future.add_done_callback(announce)
    future.set_result("set by main")
    print("main: awaiting the task")
    print("main got", await task)


asyncio.run(main())
