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
    print(f"sequential: {tenths(time.perf_counter() - start)} s")
    start = time.perf_counter()
    await asyncio.gather(step("four"), step("five"), step("six"))
    print(f"gather: {tenths(time.perf_counter() - start)} s")


def tenths(seconds: float) -> str:
    # Whole tenths, rounded down (and 5 ms early for a timer that fires a hair before its time):
    # a loaded machine adds tens of milliseconds to real sleeps, which should not change the text.
    return f"{int(seconds * 10 + 0.05) / 10:.1f}"


asyncio.run(main())
