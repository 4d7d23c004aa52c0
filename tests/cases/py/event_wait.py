import asyncio


async def waiter(event: asyncio.Event, name: str) -> None:
    print(f"{name} waits")
    await event.wait()
    print(f"{name} woke up")


async def main() -> None:
    event = asyncio.Event()
    tasks = [asyncio.create_task(waiter(event, name)) for name in ("first", "second")]
    await asyncio.sleep(0.2)
    print("main sets the event")
    event.set()
    await asyncio.gather(*tasks)


asyncio.run(main())
