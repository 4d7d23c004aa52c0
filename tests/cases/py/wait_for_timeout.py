import asyncio


async def slow() -> None:
    try:
        print("slow: started")
        await asyncio.sleep(1)
        print("slow: never printed")
    except asyncio.CancelledError:
        print("slow: cancelled, cleaning up")
        raise


async def main() -> None:
    # A task, not a coroutine: from 3.12 on, wait_for runs a coroutine inside the caller's task.
    slow_task = asyncio.create_task(slow())
    try:
        await asyncio.wait_for(slow_task, timeout=0.25)
    except TimeoutError:
        print("main: timed out; the task is cancelled:", slow_task.cancelled())
    slow_task = asyncio.create_task(slow())
    await asyncio.sleep(0.1)
    slow_task.cancel()
    try:
        await slow_task
    except asyncio.CancelledError:
        print("main: cancelled it myself:", slow_task.cancelled())


asyncio.run(main())
