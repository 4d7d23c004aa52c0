import asyncio
import threading


def in_thread(loop: asyncio.AbstractEventLoop, future: asyncio.Future[str]) -> None:
    print("thread: handing a result to the loop")
    loop.call_soon_threadsafe(future.set_result, "from the thread")


async def main() -> None:
    loop = asyncio.get_running_loop()
    future: asyncio.Future[str] = loop.create_future()
    thread = threading.Thread(target=in_thread, args=(loop, future), name="helper")
    thread.start()
    print("main got:", await future)
    thread.join()


asyncio.run(main())
