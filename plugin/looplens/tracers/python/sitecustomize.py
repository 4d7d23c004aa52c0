"""The looplens asyncio tracer's way into a snippet's process.

looplens runs `python SNIPPET.py` with this folder on PYTHONPATH; `site` imports this module
before the snippet starts, and it installs the tracer (_looplens_install.py), which writes its
records to the file descriptor named by LOOPLENS_TRACE_FD. Standard library only: this runs in the
snippet's interpreter, where looplens itself may not be importable.

A sitecustomize module that the interpreter would have imported without this one (some Linux
distributions ship one) still runs, as it would have.
"""

import importlib.machinery
import importlib.util
import sys
from pathlib import Path


def _run_next_sitecustomize(folder: str) -> None:
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", sys.path)
    if spec is None or spec.loader is None or Path(spec.origin or "").parent == Path(folder):
        return
    module = importlib.util.module_from_spec(spec)
    # It takes this module's place, as if it had been imported alone.
    sys.modules["sitecustomize"] = module
    spec.loader.exec_module(module)


def _main() -> None:
    folder = str(Path(__file__).parent)
    install = importlib.import_module("_looplens_install").install
    install(folder)
    _run_next_sitecustomize(folder)


_main()
