"""The markup of one traced fence on a page, in Material's own components.

The code comes first, then a content-tab set: the output table, the sequence diagram, the
step-through player. The tab markup is the one pymdownx.tabbed writes with `alternate_style: true`
(Material requires that style), with ids in a namespace of our own so that they never collide with
the page's other tab sets.

A snippet proven on several runtimes that all printed the same shows one run, and its caption
says "same on Node 20, 22, 24". Where they differ (or one of them failed, or the order is not
fixed and each runtime printed each ordering as often as it did), a tab per runtime holds that
runtime's run, its lines unlike the primary's marked.
"""

from __future__ import annotations

from html import escape

from looplens.checks.expectation import Verdict
from looplens.checks.judge import OrderingsSeen, threads_interleave
from looplens.checks.judged import RuntimeRun, TracedSnippet
from looplens.checks.runtimes import compared, difference
from looplens.margins import closest
from looplens.render.html_text import text
from looplens.render.mermaid import render_mermaid
from looplens.render.orderings import render_orderings
from looplens.render.player import render_player
from looplens.render.predict import predict_attribute
from looplens.render.table import Differs, render_table
from looplens.runtimes.report import releases
from looplens.snippet import Snippet
from looplens.trace import Trace


def render_traced(
    traced: TracedSnippet,
    code_html: str,
    *,
    glossary_url: str | None = None,
    share_url: str | None = None,
) -> str:
    """The block of a snippet with its runs on each runtime; the URLs (relative to the page) are
    the glossary, for a question's answers, and the snippet's own share page."""
    if not _shows_each_runtime(traced):
        primary = traced.primary
        same_on = releases(primary.runtime.name.kind, (run.runtime.name for run in traced.runs))
        return render_snippet(
            traced.snippet,
            primary.trace,
            code_html,
            primary.verdict,
            primary.orderings,
            primary.schedules,
            glossary_url=glossary_url,
            share_url=share_url,
            same_on=same_on if len(traced.runs) > 1 else "",
            pending=releases(primary.runtime.name.kind, (r.name for r in traced.pending)),
        )
    snippet = traced.snippet
    varies = any(_varies(snippet, run.trace, run.schedules) for run in traced.runs)
    primary_title = traced.primary.runtime.name.title
    tabs = []
    for group in _groups(traced):
        run = group[0]
        kind = run.runtime.name.kind
        title = releases(kind, (member.runtime.name for member in group))
        same_on = title if len(group) > 1 else ""
        body = _runtime_run(snippet, run, code_html, share_url, primary_title, same_on)
        tabs.append((title + (" · differs" if run.difference else ""), body))
    parts = [
        _opening(snippet, traced.primary.trace, varies, glossary_url),
        code_html,
        _tab_set(f"__tabbed_looplens_{snippet.id}_runtimes", tabs, kind="looplens-runtimes"),
        "</div>",
    ]
    return "\n".join(part for part in parts if part)


def _groups(traced: TracedSnippet) -> list[list[RuntimeRun]]:
    """The runs in tabs: runtimes that printed the same (and passed) share one, the primary's
    first; a nondeterministic snippet's runtimes each have their own counts."""
    groups: list[list[RuntimeRun]] = []
    for run in traced.runs:
        home = next(
            (
                group
                for group in groups
                if compared(traced.snippet)
                and group[0].verdict is None
                and run.verdict is None
                and difference((group[0].runtime, group[0].trace), (run.runtime, run.trace)) is None
            ),
            None,
        )
        if home is None:
            groups.append([run])
        else:
            home.append(run)
    return groups


def _shows_each_runtime(traced: TracedSnippet) -> bool:
    if len(traced.runs) < 2:
        return False
    others = traced.runs[1:]
    return (
        traced.snippet.nondeterministic
        or any(run.difference is not None for run in others)
        or any(run.verdict is not None for run in others)
    )


def _runtime_run(
    snippet: Snippet,
    run: RuntimeRun,
    code_html: str,
    share_url: str | None,
    primary: str,
    same_on: str,
) -> str:
    differs = Differs(frozenset(run.difference.lines), primary) if run.difference else None
    suffix = f"_{run.runtime.name.kind}{run.runtime.name.release.replace('.', '_')}"
    parts = [
        _verdict_admonition(snippet, run.verdict) if run.verdict else "",
        render_orderings(run.orderings) if run.orderings else "",
        _tab_set(
            f"__tabbed_looplens_{snippet.id}{suffix}",
            _run_tabs(snippet, run.trace, code_html, differs),
            excluded=False,
        ),
        _caption(
            snippet,
            run.trace,
            share_url,
            run.schedules,
            same_on=same_on,
            anchor=False,
            differs_from=primary if run.difference else "",
        ),
    ]
    return "\n".join(part for part in parts if part)


def _run_tabs(
    snippet: Snippet, trace: Trace, code_html: str, differs: Differs | None = None
) -> list[tuple[str, str]]:
    return [
        ("Output", render_table(trace, differs)),
        (
            "Sequence diagram",
            # Drawn in the browser when the tab is first opened (assets/looplens-diagram.js);
            # until then, and without JavaScript, the source shows.
            # A region reachable by keyboard: a wide diagram scrolls sideways.
            '<div class="looplens-diagram" tabindex="0" role="region" '
            'aria-label="Sequence diagram"><pre class="looplens-diagram-source"><code>'
            f"{text(render_mermaid(trace))}</code></pre></div>",
        ),
        ("Step through", render_player(snippet.source, trace, code_html)),
    ]


def _opening(snippet: Snippet, trace: Trace, varies: bool, glossary_url: str | None) -> str:
    return (
        # The id sits on an empty anchor, not on the wrapper: Material names each code block after
        # its nearest ancestor with an id, and two blocks under one id would share a copy button.
        # A measured block prints figures, often a chart of one bar a line: its own style.
        f'<div class="looplens{" looplens-measured" if snippet.measured else ""}" '
        f'data-looplens-id="{snippet.id}"'
        # A nondeterministic snippet's drawn run (or one whose callbacks ran in another order in
        # another run) is one of several the build saw: it may differ from build to build.
        + (" data-looplens-measured" if varies else "")
        + (predict_attribute(snippet, trace, glossary_url) if snippet.predict else "")
        + ">"
        + f'\n<span class="looplens-anchor" id="{snippet.id}"></span>'
    )


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
    same_on: str = "",
    pending: str = "",
) -> str:
    """The block of one run; `same_on` names the runtimes that printed the same ("Node 20, 22,
    24"), when there are several, and `pending` those still running (`mkdocs serve`)."""
    parts = [
        _opening(snippet, trace, _varies(snippet, trace, schedules), glossary_url),
        code_html,
        _verdict_admonition(snippet, verdict) if verdict else "",
        render_orderings(orderings) if orderings else "",
        _tab_set(f"__tabbed_looplens_{snippet.id}", _run_tabs(snippet, trace, code_html)),
        _caption(snippet, trace, share_url, schedules, same_on=same_on, pending=pending),
        "</div>",
    ]
    return "\n".join(part for part in parts if part)


def _tab_set(
    name: str, tabs: list[tuple[str, str]], *, excluded: bool = True, kind: str = ""
) -> str:
    # Material opens the tab named in the URL hash only for inputs named "__tabbed_…".
    checked = ' checked="checked"'
    inputs = "".join(
        f'<input{checked if index == 1 else ""} id="{name}_{index}" name="{name}" type="radio" />'
        for index in range(1, len(tabs) + 1)
    )
    # Material links tabs by their labels' text (content.tabs.link): choosing "Step through" on
    # one block would switch every block of the site, and stay chosen on the next page. Each
    # label ends in its set's name, which no one sees or hears, so that no two sets share one.
    unlinked = f'<span class="looplens-visually-hidden" aria-hidden="true"> {name}</span>'
    labels = "".join(
        f'<label for="{name}_{index}">{escape(title)}{unlinked}</label>'
        for index, (title, _) in enumerate(tabs, start=1)
    )
    blocks = "\n".join(f'<div class="tabbed-block">\n{body}\n</div>' for _, body in tabs)
    tab_set = (
        f'<div class="tabbed-set tabbed-alternate{f" {kind}" if kind else ""}" '
        f'data-tabs="{name}:{len(tabs)}">{inputs}'
        f'<div class="tabbed-labels">{labels}</div>\n'
        f'<div class="tabbed-content">\n{blocks}\n</div>\n</div>'
    )
    if not excluded:
        return tab_set  # inside a tab set that is
    # Out of the search index: the run repeats the code and the output, and a diagram's source
    # is no text to search; the code block above stays searchable. The mark sits on a
    # <section>, not on the tab set: Material's search parser compares elements by tag, so the
    # first nested </div> would end a <div>'s exclusion (and so would a nested </section>: a
    # runtime's tab set inside the runtimes' is not marked again).
    return f'<section class="looplens-run" data-search-exclude>{tab_set}</section>'


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
    snippet: Snippet,
    trace: Trace,
    share_url: str | None = None,
    schedules: int = 1,
    *,
    same_on: str = "",
    anchor: bool = True,
    differs_from: str = "",
    pending: str = "",
) -> str:
    """What ran it, how it ended and what proves its order; `same_on`, `differs_from` and
    `pending` name runtimes as a reader reads them ("Node 20, 22")."""
    status = f"exit code {trace.exit_code}"
    truncated = " · trace truncated" if trace.truncated else ""
    measured = (
        " · the figures are measured on the build machine and change from build to build"
        if snippet.measured
        else ""
    )
    share = (
        f' · <a class="looplens-share" href="{escape(share_url, quote=True)}" '
        'title="This run on a page of its own, to share">share</a>'
        if share_url
        else ""
    )
    permalink = (
        f' · <a class="looplens-permalink" href="#{snippet.id}" '
        f'title="Link to this run">#{snippet.id}</a>'
        if anchor
        else ""
    )
    return (
        # Out of the search index: nothing to search for in it, and the number of orders seen
        # changes from build to build.
        '<p class="looplens-caption" data-search-exclude>'
        f"Traced at build time with {escape(trace.runtime)}"
        f"{_runtime_notes(same_on, differs_from, pending)} · {status}{truncated}{measured}"
        f"{_order_notes(snippet, trace, schedules)}{permalink}{share}</p>"
    )


def _runtime_notes(same_on: str, differs_from: str, pending: str) -> str:
    notes = []
    if same_on:
        notes.append(f"same on {escape(same_on)}")
    if differs_from:
        notes.append(f"prints otherwise than {escape(differs_from)}: the marked lines")
    if pending:
        notes.append(
            f"still being proven on {escape(pending)}: this page reloads when that is done"
        )
    return "".join(f" · {note}" for note in notes)


def _order_notes(snippet: Snippet, trace: Trace, schedules: int) -> str:
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
    return order
