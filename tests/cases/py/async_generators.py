import asyncio
from collections.abc import AsyncIterator


async def ticks(count: int) -> AsyncIterator[int]:
    for number in range(count):
        await asyncio.sleep(0.1)
        yield number
    print("ticks: exhausted")


async def main() -> None:
    async for number in ticks(3):
        print("tick", number)
    squares = [number * number async for number in ticks(2)]
    print("squares", squares)


asyncio.run(main())
