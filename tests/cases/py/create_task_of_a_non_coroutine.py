import asyncio


class Job:
    def __repr__(self) -> str:
        return "<Job, not a coroutine>"


async def main() -> None:
    print("main: about to pass something that is not a coroutine")
    asyncio.create_task(Job())  # type: ignore[arg-type]  # noqa: RUF006 - the mistake shown


asyncio.run(main())
