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
    sequential = time.perf_counter() - start
    print(f"sequential took 0.3 s or more: {sequential > 0.295}")
    start = time.perf_counter()
    await asyncio.gather(step("four"), step("five"), step("six"))
    print(f"gather took less: {time.perf_counter() - start < sequential}")


# What the lines say holds in real time too, however loaded the machine (sleeps never end early,
# by more than a clock tick): the plain runs the tests compare with print the same.
asyncio.run(main())
