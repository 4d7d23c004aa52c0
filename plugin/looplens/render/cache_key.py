"""Names of rendered runs: the run's block is drawn once and looked up by later builds.

Drawing a block (table, diagram, player) is most of what a warm build adds to a plain one, and
it is a pure function of the trace's content, the fence as written, the block's highlighted code
(named by what decides it, see highlighting.highlight_identity, or else given whole), its links
and the renderers' own code. A key covering all five never names a stale block.
"""

from __future__ import annotations

import functools
import hashlib

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


def render_key(trace_content: str, snippet: Snippet, code: str, links: str) -> str:
    """The name of a block drawn from the trace whose content has the digest `trace_content`;
    the snippet's fields (its id, its expectation), its highlighted code (or what decides it) and
    the links it holds (relative to its page) are part of it."""
    parts = (renderer_digest(), trace_content, repr(snippet), code, links)
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()
