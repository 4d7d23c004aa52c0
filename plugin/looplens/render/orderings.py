"""The orderings of a nondeterministic snippet, as the page shows them: each declared ordering
with how many of the build's runs printed it.

The counts are measured on the build machine and change from build to build, so the element is
marked `data-looplens-measured` for the reproducibility check.
"""

from __future__ import annotations

from looplens.checks.judge import OrderingsSeen
from looplens.render.html_text import text
from looplens.snippet import Expectation


def render_orderings(orderings: OrderingsSeen) -> str:
    runs = orderings.runs
    items = "".join(
        "<li>"
        f'<pre class="no-copy"><code>{text(_written(declared.expectation))}</code></pre>'
        f"<p>{_seen(declared.seen, runs)}"
        + (" · the run drawn below" if position == orderings.shown else "")
        + "</p></li>"
        for position, declared in enumerate(orderings.declared)
    )
    varied = sum(1 for declared in orderings.declared if declared.seen) > 1
    if runs == 1:
        summary = "The build machine ran it once"
    elif varied:
        summary = f"Of {runs} runs on the build machine"
    else:
        summary = f"All {runs} runs on the build machine printed the same one this time"
    # Out of the search index, as the run is (the counts change per build); a <section>, since
    # Material's search parser ends an exclusion at the first closing tag of the same name.
    return (
        '<section class="admonition question looplens-orderings" data-looplens-measured '
        "data-search-exclude>"
        '<p class="admonition-title">The order of this output is not fixed</p>'
        "<p>Each run may print any of these orderings. "
        f"{summary}; the counts change from build to build.</p>"
        f"<ol>{items}</ol></section>"
    )


def _seen(count: int, runs: int) -> str:
    if count == 0:
        return "not seen in this build"
    return f"seen in {count} of {runs} run{'s' if runs > 1 else ''}"


def _written(expectation: Expectation) -> str:
    width = max((len(line.text) for line in expectation.lines), default=0)
    return "\n".join(
        f"{line.text.ljust(width)}  {line.claims}".rstrip() if line.claims else line.text
        for line in expectation.lines
    )
