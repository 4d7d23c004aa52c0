import asyncio
import sys

print("before asyncio.run")
print("argv:", [arg.rsplit("/", 1)[-1] for arg in sys.argv])


async def main() -> None:
    print("inside the loop")
    await asyncio.sleep(0.1)


asyncio.run(main())
print("after asyncio.run", file=sys.stderr)
print("after, on stdout")
