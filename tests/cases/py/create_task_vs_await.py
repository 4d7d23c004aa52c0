import asyncio


async def job(name: str) -> None:
    print(f"{name}: start")
    await asyncio.sleep(0.1)
    print(f"{name}: end")


async def main() -> None:
    print("await job('A') runs it now, to the end")
    await job("A")
    print("create_task(job('B')) only schedules it")
    task = asyncio.create_task(job("B"))
    print("main goes on before B starts")
    await task
    print("main: B is done")


asyncio.run(main())
