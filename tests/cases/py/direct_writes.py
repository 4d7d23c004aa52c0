import asyncio
import os
import sys


async def main() -> None:
    print("one line, ", end="")
    await asyncio.sleep(0.1)
    print("finished in a later step")
    os.write(1, b"written to fd 1 directly\n")
    sys.stdout.buffer.write(b"not UTF-8: \xff\n")
    print("back to print")


asyncio.run(main())
