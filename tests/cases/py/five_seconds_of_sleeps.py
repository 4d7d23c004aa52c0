import asyncio
import time


async def main() -> None:
    start = time.monotonic()
    for _ in range(50):
        await asyncio.sleep(0.1)
    print("50 sleeps of 0.1 s took at least 5 s:", time.monotonic() - start >= 5)


asyncio.run(main())
