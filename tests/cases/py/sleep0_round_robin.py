import asyncio


async def spinner(name: str, turns: int) -> None:
    for turn in range(turns):
        print(f"{name} turn {turn}")
        await asyncio.sleep(0)


async def main() -> None:
    await asyncio.gather(spinner("A", 3), spinner("B", 2), spinner("C", 3))


asyncio.run(main())
