"""A runtime as a page names it (`node@20`, `python@3.12`) and as the machine has it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from looplens.errors import LooplensError
from looplens.snippet import Language

#: How a page or mkdocs.yml names a runtime's language.
LANGUAGE_NAMES: dict[str, Language] = {"node": "javascript", "python": "python"}
#: The other way: the name a language's runtimes go by.
RUNTIME_NAMES: dict[Language, str] = {language: name for name, language in LANGUAGE_NAMES.items()}
#: How a reader reads the name: "Node 20", "Python 3.12".
TITLES = {"node": "Node", "python": "Python"}

_NAME = re.compile(r"(?P<kind>node|python)@(?P<release>\d+(?:\.\d+)?)(?P<newer>\+)?")


def release_key(release: str) -> tuple[int, ...]:
    """A release as numbers, so that 3.9 sorts before 3.12 and 20 before 22."""
    return tuple(int(part) for part in release.split("."))


def version_key(version: str) -> tuple[int, ...]:
    """An exact version as numbers, a suffix such as "rc1" or "+" left out: "3.13.0rc1" is
    (3, 13, 0)."""
    return release_key(re.sub(r"[^0-9.].*", "", version))


@dataclass(frozen=True, slots=True, order=True)
class RuntimeName:
    """A release line: `node@22` is every Node 22.x; the page proves on the one installed."""

    kind: str
    release: str

    @classmethod
    def parse(cls, text: str) -> RuntimeName:
        """`node@20` or `python@3.12`; LooplensError naming what is accepted otherwise."""
        match = _NAME.fullmatch(text.strip())
        if match is None or match["newer"]:
            raise LooplensError(
                f"'{text}' is not a runtime: write node@MAJOR or python@MAJOR.MINOR, "
                "e.g. node@22, python@3.12"
            )
        return cls(match["kind"], match["release"])

    @property
    def language(self) -> Language:
        return LANGUAGE_NAMES[self.kind]

    @property
    def sort_key(self) -> tuple[str, tuple[int, ...]]:
        return (self.kind, release_key(self.release))

    def __str__(self) -> str:
        return f"{self.kind}@{self.release}"

    @property
    def title(self) -> str:
        """How a page calls it: "Node 22", "Python 3.12"."""
        return f"{TITLES[self.kind]} {self.release}"


@dataclass(frozen=True, slots=True)
class RuntimeSelector:
    """Which runtimes an expectation or a fence is for: `node@20`, or `python@3.12+` (3.12 and
    every newer release)."""

    kind: str
    release: str
    newer: bool = False

    @classmethod
    def parse(cls, text: str) -> RuntimeSelector:
        match = _NAME.fullmatch(text.strip())
        if match is None:
            raise LooplensError(
                f"'{text}' names no runtime: write node@MAJOR or python@MAJOR.MINOR, with a "
                "trailing + for that release and the newer ones (node@22+, python@3.12)"
            )
        return cls(match["kind"], match["release"], bool(match["newer"]))

    def matches(self, name: RuntimeName) -> bool:
        if name.kind != self.kind:
            return False
        if self.newer:
            return release_key(name.release) >= release_key(self.release)
        return release_key(name.release) == release_key(self.release)

    def __str__(self) -> str:
        return f"{self.kind}@{self.release}{'+' if self.newer else ''}"


def parse_selectors(text: str) -> tuple[RuntimeSelector, ...]:
    """A comma-separated list of selectors, as a fence writes it (`for="node@20,node@22"`)."""
    selectors = tuple(RuntimeSelector.parse(part) for part in text.split(",") if part.strip())
    if not selectors:
        raise LooplensError("an empty list of runtimes: name at least one (node@22, python@3.12)")
    return selectors


def selected(selectors: tuple[RuntimeSelector, ...], name: RuntimeName) -> bool:
    """True when no selector is given (everything), or one of them matches."""
    return not selectors or any(selector.matches(name) for selector in selectors)


@dataclass(frozen=True, slots=True)
class Runtime:
    """One installed runtime: what runs a snippet and what its trace and cache key call it."""

    name: RuntimeName
    #: The exact version, e.g. "20.18.0".
    version: str
    executable: Path
    #: Folders of the installation a sandboxed run must read (Python: its standard library and
    #: site-packages); Node reads nothing outside the binary.
    folders: tuple[str, ...] = field(default=())

    @property
    def language(self) -> Language:
        return self.name.language

    @property
    def identity(self) -> str:
        """What a trace says ran it, and what the cache keys it by: "node 20.18.0"."""
        return f"{self.name.kind} {self.version}"

    @property
    def major(self) -> int:
        return self.version_key[0]

    @property
    def version_key(self) -> tuple[int, ...]:
        return version_key(self.version)
