import asyncio
import threading


def blocking(n: int) -> int:
    in_main = threading.current_thread() is threading.main_thread()
    print(f"in a thread: work {n}, main thread? {in_main}")
    return n * n


async def main() -> None:
    loop = asyncio.get_running_loop()
    print("main: to the executor")
    square = await loop.run_in_executor(None, blocking, 3)
    print("main: run_in_executor gave", square)
    square = await asyncio.to_thread(blocking, 4)
    print("main: to_thread gave", square)


asyncio.run(main())
