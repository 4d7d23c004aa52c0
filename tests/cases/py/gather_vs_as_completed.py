import asyncio


async def fetch(name: str, delay: float) -> str:
    await asyncio.sleep(delay)
    print(f"fetched {name}")
    return name


async def main() -> None:
    results = await asyncio.gather(fetch("slow", 0.3), fetch("fast", 0.1), fetch("mid", 0.2))
    print("gather keeps the call order:", results)
    fetches = [fetch("slow", 0.3), fetch("fast", 0.1), fetch("mid", 0.2)]
    for next_done in asyncio.as_completed(fetches):
        print("as_completed gives", await next_done)


asyncio.run(main())
