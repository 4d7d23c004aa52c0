"""Names of rendered runs: the run's block is drawn once and looked up by later builds.

Drawing a block (table, diagram, player) is most of what a warm build adds to a plain one, and
it is a pure function of the trace's content, the fence as written, the block's highlighted code
(named by what decides it, see highlighting.highlight_identity, or else given whole), its links
and the renderers' own code. A key covering all five never names a stale block.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass

from looplens import PACKAGE_FOLDER
from looplens.snippet import Snippet


@functools.cache
def renderer_digest() -> str:
    """A digest of the package's own modules: any of them may take part in drawing a block, and
    redrawing after a change to the plugin costs little."""
    digest = hashlib.sha256()
    for file in sorted(PACKAGE_FOLDER.rglob("*.py")):
        name = file.relative_to(PACKAGE_FOLDER).as_posix()
        digest.update(name.encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class RenderKey:
    """Everything a drawn block depends on besides the renderers' code, which `digest` adds."""

    #: The digest of the content of the trace the block is drawn from.
    trace_content: str
    #: The fence as written: every field of the snippet (its id, its expectation) counts.
    snippet: Snippet
    #: The block's highlighted code, or what decides it.
    code: str
    #: The links the block holds, relative to its page.
    glossary_url: str | None
    share_url: str | None

    def digest(self) -> str:
        """The block's name in the cache."""
        links = f"{self.glossary_url}\0{self.share_url}"
        parts = (renderer_digest(), self.trace_content, repr(self.snippet), self.code, links)
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()
