"""The CPython versions on this machine: the one running looplens, pyenv's, and those on PATH.

Each is asked once per build for its exact version and the folders of its installation (what a
sandboxed run must read), with one short process start.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from looplens.runtimes.runtime import Runtime, RuntimeName, release_key

#: Printed by each candidate interpreter: its version and its installation's folders.
_PROBE = """\
import json, platform, sysconfig
paths = sysconfig.get_paths()
folders = [paths[name] for name in ("stdlib", "platstdlib", "purelib", "platlib")]
library = sysconfig.get_config_var("LIBDIR")
if isinstance(library, str):
    folders.append(library)
print(json.dumps([platform.python_version(), list(dict.fromkeys(folders))]))
"""
_PYENV_VERSION = re.compile(r"(?P<release>3\.\d+)\.(?P<patch>\d+)")


def python_for(release: str) -> Runtime | None:
    """CPython `release` ("3.12") as this machine has it, or None."""
    for executable in _candidates(release):
        runtime = _probe(str(executable))
        if runtime is not None and runtime.name.release == release:
            return runtime
    return None


def running_python() -> Runtime:
    """The interpreter that runs looplens: the runtime of a Python snippet when none is chosen."""
    runtime = _probe(sys.executable)
    if runtime is None:
        raise RuntimeError(f"{sys.executable} does not answer the probe it is running")
    return runtime


def _candidates(release: str) -> list[Path]:
    candidates: list[Path] = []
    if f"{sys.version_info.major}.{sys.version_info.minor}" == release:
        candidates.append(Path(sys.executable))
    # pyenv's own folders before PATH: a pyenv shim on PATH starts a shell script each time, and
    # fails for a version the folder has not selected.
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    if pyenv.is_dir():
        patches = [
            (int(match["patch"]), folder)
            for folder in pyenv.iterdir()
            if (match := _PYENV_VERSION.fullmatch(folder.name)) and match["release"] == release
        ]
        for _, folder in sorted(patches, reverse=True):
            candidates.append(folder / "bin" / f"python{release}")
    on_path = shutil.which(f"python{release}")
    if on_path is not None:
        candidates.append(Path(on_path))
    return [candidate for candidate in candidates if candidate.is_file()]


@functools.cache
def _probe(executable: str) -> Runtime | None:
    try:
        result = subprocess.run(
            [executable, "-I", "-c", _PROBE],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        version, folders = json.loads(result.stdout)
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    release = ".".join(str(part) for part in release_key(re.sub(r"[^0-9.].*", "", version))[:2])
    return Runtime(RuntimeName("python", release), version, Path(executable), tuple(folders))
