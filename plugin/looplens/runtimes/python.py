"""The CPython versions on this machine: the one running looplens, pyenv's, and those on PATH.

Each is asked once for its exact version and the folders of its installation (what a sandboxed
run must read), with one short process start; the answer is kept on disk by the interpreter's
path, size and modification time, so that a warm build starts no interpreter (an upgraded one
is a new file, and is asked again).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from looplens.runtimes.node import runtimes_folder
from looplens.runtimes.runtime import Runtime, RuntimeName, version_key

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
#: The interpreters are asked side by side (matrix.find_runtimes): one writes the file at a time.
_KEEPING = threading.Lock()
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
        real = Path(executable).resolve()
        status = real.stat()
    except OSError:
        return None
    key = f"{executable}\0{real}\0{status.st_size}\0{status.st_mtime_ns}"
    answers = _kept_answers()
    answer: Any = answers.get(key)
    if answer is None:
        try:
            result = subprocess.run(
                [executable, "-I", "-c", _PROBE],
                capture_output=True,
                text=True,
                timeout=30,
                check=True,
            )
            answer = json.loads(result.stdout)
        except (OSError, subprocess.SubprocessError, ValueError):
            return None
        _keep_answer(key, answer)
    try:
        version, folders = str(answer[0]), tuple(str(folder) for folder in answer[1])
    except (IndexError, KeyError, TypeError):
        return None  # a damaged answer: not trusted
    release = ".".join(str(part) for part in version_key(version)[:2])
    return Runtime(RuntimeName("python", release), version, Path(executable), folders)


def _answers_file() -> Path:
    return runtimes_folder() / "pythons.json"


def _kept_answers() -> dict[str, object]:
    try:
        kept = json.loads(_answers_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return kept if isinstance(kept, dict) else {}


def _keep_answer(key: str, answer: object) -> None:
    # Best effort: a folder it cannot write only means asking again next time. Written whole
    # (a temporary file renamed over it), so two builds at once never leave half a file.
    with _KEEPING, contextlib.suppress(OSError):
        answers = {**_kept_answers(), key: answer}
        folder = _answers_file().parent
        folder.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".pythons-", suffix=".json")
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            json.dump(answers, file)
        Path(temporary).replace(_answers_file())
