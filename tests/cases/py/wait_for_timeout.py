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
    try:
        await asyncio.wait_for(slow(), timeout=0.25)
    except TimeoutError:
        print("main: timed out")
    task = asyncio.create_task(slow())
    await asyncio.sleep(0.1)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        print("main: the task is cancelled:", task.cancelled())


asyncio.run(main())
