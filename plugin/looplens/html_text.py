"""Escaping for the larger pieces of HTML the renderers write: as little as HTML's syntax needs.

Material's search parser reads every page of a build, and each character reference it meets costs
it a call in Python. Escaped the usual way, the players' JSON and the diagrams' arrows made over a
hundred thousand of them per build of this site. So text escapes only `&` and `<`, and attribute
values are single-quoted and escape only `&` and `'`: what is left cannot end the text or the
value, nor be read as a reference.
"""

from __future__ import annotations


def text(value: str) -> str:
    """`value` as the text of an element (not of a <script> or <style>)."""
    return value.replace("&", "&amp;").replace("<", "&lt;")


def attribute(value: str) -> str:
    """`value` as an attribute's value, its quotes included: `name={attribute(value)}`."""
    return "'" + value.replace("&", "&amp;").replace("'", "&#39;") + "'"
