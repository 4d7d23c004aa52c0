import asyncio
import time


async def step(name: str) -> None:
    await asyncio.sleep(0.1)
    print(f"{name} done")


async def main() -> None:
    start = time.perf_counter()
    await step("one")
    await step("two")
    await step("three")
    print(f"sequential: {time.perf_counter() - start:.1f} s")
    start = time.perf_counter()
    await asyncio.gather(step("four"), step("five"), step("six"))
    print(f"gather: {time.perf_counter() - start:.1f} s")


asyncio.run(main())
