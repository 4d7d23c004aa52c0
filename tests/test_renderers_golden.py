"""Golden tests: a hand-written trace per case, and the table and diagram a human has read.

Run with --update-goldens to rewrite the expected files, then read the diff before committing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from looplens.render.mermaid import render_mermaid
from looplens.render.table import render_table, render_text
from looplens.trace import Trace

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(path.name.removesuffix(".trace.json") for path in GOLDEN.glob("*.trace.json"))
RENDERERS: dict[str, Callable[[Trace], str]] = {
    "table.html": lambda trace: render_table(trace).replace("<tr>", "\n<tr>") + "\n",
    "table.txt": lambda trace: render_text(trace) + "\n",
    "mermaid": render_mermaid,
}


@pytest.mark.parametrize("renderer", sorted(RENDERERS))
@pytest.mark.parametrize("case", CASES)
def test_renderer_output_matches_golden(
    case: str, renderer: str, request: pytest.FixtureRequest
) -> None:
    trace = Trace.from_json((GOLDEN / f"{case}.trace.json").read_text(encoding="utf-8"))
    rendered = RENDERERS[renderer](trace)
    golden = GOLDEN / f"{case}.{renderer}"
    if request.config.getoption("--update-goldens"):
        golden.write_text(rendered, encoding="utf-8")
    assert golden.exists(), f"no golden file {golden.name}: run pytest --update-goldens and read it"
    assert rendered == golden.read_text(encoding="utf-8")


def test_trace_json_round_trips() -> None:
    for case in CASES:
        text = (GOLDEN / f"{case}.trace.json").read_text(encoding="utf-8")
        trace = Trace.from_json(text)
        assert Trace.from_json(trace.to_json()) == trace


def test_an_unknown_trace_version_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported trace version 99"):
        Trace.from_dict({"version": 99})


def test_a_diagram_says_repeated_steps_once_and_reaches_the_output(tmp_path: Path) -> None:
    from looplens.tracing.node.tracer import trace_javascript

    snippet = tmp_path / "chain.js"
    # 30 timers, each setting the next: the same three steps (turn, run, queue) 30 times, and
    # only then a line printed.
    snippet.write_text(
        "let left = 30;\n"
        "function next() {\n"
        "  if (--left > 0) setTimeout(next, 1);\n"
        '  else console.log("done");\n'
        "}\n"
        "setTimeout(next, 1);\n"
    )
    diagram = render_mermaid(trace_javascript(snippet))
    assert "more times (turns" in diagram
    assert "stack->>console: done" in diagram, "the diagram reaches the printed line"
    assert len(diagram.splitlines()) < 30
