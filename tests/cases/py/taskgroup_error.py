import asyncio


async def fail() -> None:
    await asyncio.sleep(0.1)
    raise ValueError("a TaskGroup does not lose me")


async def sibling() -> None:
    try:
        await asyncio.sleep(1)
    except asyncio.CancelledError:
        print("sibling: cancelled by the group")
        raise


async def main() -> None:
    try:
        async with asyncio.TaskGroup() as group:
            group.create_task(fail())
            group.create_task(sibling())
    except* ValueError as errors:
        print("main caught:", [str(error) for error in errors.exceptions])


asyncio.run(main())
