import asyncio
import traceback


def callback() -> None:
    traceback.print_stack()


async def main() -> None:
    asyncio.get_running_loop().call_soon(callback)
    await asyncio.sleep(0)


asyncio.run(main())
