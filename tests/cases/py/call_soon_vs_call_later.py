import asyncio


def report(what: str) -> None:
    print(what)


async def main() -> None:
    loop = asyncio.get_running_loop()
    loop.call_later(0, report, "call_later(0)")
    loop.call_soon(report, "call_soon")
    loop.call_later(0.05, report, "call_later(0.05)")
    loop.call_at(loop.time() + 0.02, report, "call_at(now + 0.02)")
    print("main: scheduled four callbacks")
    await asyncio.sleep(0.1)
    print("main: done")


asyncio.run(main())
