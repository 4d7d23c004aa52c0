import asyncio


async def producer(queue: asyncio.Queue[int | None]) -> None:
    for item in range(3):
        await asyncio.sleep(0.1)
        await queue.put(item)
        print(f"put {item}")
    await queue.put(None)


async def consumer(queue: asyncio.Queue[int | None]) -> None:
    while (item := await queue.get()) is not None:
        print(f"got {item}")
    print("consumer: no more items")


async def main() -> None:
    queue: asyncio.Queue[int | None] = asyncio.Queue(maxsize=1)
    await asyncio.gather(producer(queue), consumer(queue))


asyncio.run(main())
