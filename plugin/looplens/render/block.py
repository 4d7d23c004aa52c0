"""The markup of one traced fence on a page, in Material's own components.

The code comes first, then a content-tab set: the output table, the sequence diagram, the
step-through player. The tab markup is the one pymdownx.tabbed writes with `alternate_style: true`
(Material requires that style), with ids in a namespace of our own so that they never collide with
the page's other tab sets.
"""

from __future__ import annotations

from html import escape

from looplens.checks.expectation import Verdict
from looplens.checks.judge import OrderingsSeen, threads_interleave
from looplens.margins import closest
from looplens.render.html_text import text
from looplens.render.mermaid import render_mermaid
from looplens.render.orderings import render_orderings
from looplens.render.player import render_player
from looplens.render.predict import predict_attribute
from looplens.render.table import render_table
from looplens.snippet import Snippet
from looplens.trace import Trace


def render_snippet(
    snippet: Snippet,
    trace: Trace,
    code_html: str,
    verdict: Verdict | None,
    orderings: OrderingsSeen | None = None,
    schedules: int = 1,
    *,
    glossary_url: str | None = None,
    share_url: str | None = None,
) -> str:
    """The block; the URLs (relative to the page) are the glossary, for a question's answers, and
    the snippet's own share page."""
    tabs = [
        ("Output", render_table(trace)),
        (
            "Sequence diagram",
            f'<pre class="mermaid"><code>{text(render_mermaid(trace))}</code></pre>',
        ),
        ("Step through", render_player(snippet.source, trace, code_html)),
    ]
    parts = [
        # The id sits on an empty anchor, not on the wrapper: Material names each code block after
        # its nearest ancestor with an id, and two blocks under one id would share a copy button.
        # A measured block prints figures, often a chart of one bar a line: its own style.
        f'<div class="looplens{" looplens-measured" if snippet.measured else ""}" '
        f'data-looplens-id="{snippet.id}"'
        # A nondeterministic snippet's drawn run (or one whose callbacks ran in another order in
        # another run) is one of several the build saw: it may differ from build to build.
        + (" data-looplens-measured" if _varies(snippet, trace, schedules) else "")
        + (predict_attribute(snippet, trace, glossary_url) if snippet.predict else "")
        + ">",
        f'<span class="looplens-anchor" id="{snippet.id}"></span>',
        code_html,
        _verdict_admonition(snippet, verdict) if verdict else "",
        render_orderings(orderings) if orderings else "",
        _tab_set(f"__tabbed_looplens_{snippet.id}", tabs),
        _caption(snippet, trace, share_url, schedules),
        "</div>",
    ]
    return "\n".join(part for part in parts if part)


def _tab_set(name: str, tabs: list[tuple[str, str]]) -> str:
    # Material opens the tab named in the URL hash only for inputs named "__tabbed_…".
    checked = ' checked="checked"'
    inputs = "".join(
        f'<input{checked if index == 1 else ""} id="{name}_{index}" name="{name}" type="radio" />'
        for index in range(1, len(tabs) + 1)
    )
    labels = "".join(
        f'<label for="{name}_{index}">{escape(title)}</label>'
        for index, (title, _) in enumerate(tabs, start=1)
    )
    blocks = "\n".join(f'<div class="tabbed-block">\n{body}\n</div>' for _, body in tabs)
    return (
        # Out of the search index: the run repeats the code and the output, and a diagram's source
        # is no text to search; the code block above stays searchable. The mark sits on a
        # <section>, not on the tab set: Material's search parser compares elements by tag, so the
        # first nested </div> would end a <div>'s exclusion.
        '<section class="looplens-run" data-search-exclude>'
        f'<div class="tabbed-set tabbed-alternate" data-tabs="{name}:{len(tabs)}">{inputs}'
        f'<div class="tabbed-labels">{labels}</div>\n'
        f'<div class="tabbed-content">\n{blocks}\n</div>\n</div></section>'
    )


def _verdict_admonition(snippet: Snippet, verdict: Verdict) -> str:
    diff = verdict.output.diff if verdict.output else ""
    return (
        '<div class="admonition failure">'
        '<p class="admonition-title">This run is not what the page says</p>'
        f"<p>{escape('; '.join(verdict.reasons)).capitalize()}. The run below is what really "
        f"happened: the expectation of <code>{snippet.id}</code> needs fixing, or the "
        "explanation does.</p>"
        + (f'<pre class="no-copy"><code>{text(diff)}</code></pre>' if diff else "")
        + "</div>"
    )


def _varies(snippet: Snippet, trace: Trace, schedules: int) -> bool:
    return (
        snippet.measured
        or snippet.nondeterministic
        or schedules > 1
        or threads_interleave(trace)
        or bool(trace.turns_measured)
    )


def _proof(trace: Trace) -> str:
    """Which kind of order the page shows: one the loop's rules force, or one a clock decided
    (with the least margin of this run, a measured figure that changes from build to build)."""
    decision = closest(trace)
    if decision is None:
        return " · every order forced by the loop's rules"
    decided = "one order" if len(trace.decisions) == 1 else "some orders"
    return (
        f" · {decided} decided by the clock, with "
        f"<span data-looplens-measured>{decision.margin_ms:.0f} ms</span> to spare at least"
    )


def _caption(
    snippet: Snippet, trace: Trace, share_url: str | None = None, schedules: int = 1
) -> str:
    status = f"exit code {trace.exit_code}"
    truncated = " · trace truncated" if trace.truncated else ""
    measured = (
        " · the figures are measured on the build machine and change from build to build"
        if snippet.measured
        else ""
    )
    order = " · one of several possible orderings" if snippet.nondeterministic else _proof(trace)
    if threads_interleave(trace):
        order += (
            " · the steps of the worker threads fall between the main thread's as in this "
            "run; another run may interleave them differently"
        )
    elif schedules > 1:
        order += (
            f" · callbacks ran in {schedules} different orders in this build's runs: "
            "the diagram and the player show one of them"
        )
    if trace.turns_measured:
        order += (
            " · turns as this run counted them: a timer or a thread came due close to a pass "
            "of the loop, so another run may count one pass more or fewer (the order stays)"
        )
    share = (
        f' · <a class="looplens-share" href="{escape(share_url, quote=True)}" '
        'title="This run on a page of its own, to share">share</a>'
        if share_url
        else ""
    )
    return (
        # Out of the search index: nothing to search for in it, and the number of orders seen
        # changes from build to build.
        '<p class="looplens-caption" data-search-exclude>'
        f"Traced at build time with {escape(trace.runtime)} · {status}"
        f'{truncated}{measured}{order} · <a class="looplens-permalink" href="#{snippet.id}" '
        f'title="Link to this run">#{snippet.id}</a>{share}</p>'
    )
