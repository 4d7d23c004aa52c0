import asyncio
import time


async def ticker() -> None:
    for tick in range(3):
        print(f"tick {tick}")
        await asyncio.sleep(0.2)


async def main() -> None:
    ticking = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    time.sleep(0.5)
    print("blocking sleep over: the ticker was frozen")
    await ticking
    ticking = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    await asyncio.to_thread(time.sleep, 0.7)
    print("to_thread sleep over: the ticker kept going")
    await ticking


asyncio.run(main())
