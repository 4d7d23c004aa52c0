import asyncio


async def fetch(name: str, delay: float) -> str:
    await asyncio.sleep(delay)
    print(f"fetched {name}")
    return name


TIMES = (("slow", 0.3), ("fast", 0.1), ("mid", 0.2))


async def main() -> None:
    results = await asyncio.gather(fetch("slow", 0.3), fetch("fast", 0.1), fetch("mid", 0.2))
    print("gather keeps the call order:", results)
    # Tasks made here, in this order: given bare coroutines, as_completed makes the tasks itself
    # while iterating a set, in an order that follows memory addresses and changes per run.
    fetches = [asyncio.ensure_future(fetch(name, delay)) for name, delay in TIMES]
    for next_done in asyncio.as_completed(fetches):
        print("as_completed gives", await next_done)


asyncio.run(main())
