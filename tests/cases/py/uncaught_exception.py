import asyncio


async def main() -> None:
    print("main: about to fail")
    await asyncio.sleep(0.1)
    raise RuntimeError("uncaught")


asyncio.run(main())
