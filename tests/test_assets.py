"""The plugin's stylesheet is read by browsers that skip what they cannot parse, silently: a rule
left open swallows the rules after it. Check its shape here, where a mistake fails loudly."""

from __future__ import annotations

import re
from pathlib import Path

STYLESHEET = Path(__file__).parent.parent / "plugin" / "looplens" / "assets" / "looplens.css"


def rules(css: str) -> list[tuple[str, str]]:
    """(selector, body) of every rule; asserts that no rule opens inside another."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
    found, depth, start, selector = [], 0, 0, ""
    for index, char in enumerate(css):
        if char == "{":
            assert depth == 0, f"a rule opens inside another: {css[start:index].strip()!r}"
            depth, selector, start = 1, css[start:index].strip(), index + 1
        elif char == "}":
            assert depth == 1, f"a '}}' closes nothing, after {selector!r}"
            found.append((selector, css[start:index].strip()))
            depth, start = 0, index + 1
    assert depth == 0, f"the rule {selector!r} is never closed"
    assert css[start:].strip() == "", "text after the last rule"
    return found


def test_every_rule_of_the_stylesheet_is_closed_and_holds_declarations() -> None:
    parsed = rules(STYLESHEET.read_text(encoding="utf-8"))
    assert len(parsed) > 20
    for selector, body in parsed:
        assert selector, "a rule without a selector"
        declarations = [part.strip() for part in body.split(";") if part.strip()]
        assert all(":" in declaration for declaration in declarations), selector


def test_a_rule_left_open_is_caught() -> None:
    broken = ".a {\n  color: red;\n.b {\n  color: blue;\n}\n"
    try:
        rules(broken)
    except AssertionError as error:
        assert "opens inside another" in str(error)
    else:
        raise AssertionError("an open rule went unnoticed")
