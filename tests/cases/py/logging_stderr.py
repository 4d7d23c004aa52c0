import asyncio
import logging

logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
log = logging.getLogger("snippet")


async def worker() -> None:
    log.info("worker starts")
    await asyncio.sleep(0.1)
    log.warning("worker woke up")
    print("worker: printed on stdout")


async def main() -> None:
    await asyncio.gather(worker(), worker())
    log.error("main: done")


asyncio.run(main())
