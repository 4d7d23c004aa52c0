import asyncio


async def fail() -> None:
    await asyncio.sleep(0.1)
    raise ValueError("nobody awaits me")


async def main() -> None:
    asyncio.create_task(fail())  # noqa: RUF006 - on purpose: nobody keeps or awaits it
    await asyncio.sleep(0.2)
    print("main: finished without looking at the task")


asyncio.run(main())
print("after asyncio.run")
