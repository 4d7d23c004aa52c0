"""Escaping for the larger pieces of HTML the renderers write: as little as HTML's syntax needs.

Material's search parser reads every page of a build, and each character reference it meets costs
it a call in Python. Escaped the usual way, the players' JSON and the diagrams' arrows made over a
hundred thousand of them per build of this site. So text escapes only `&` and `<`, and attribute
values are single-quoted and escape only `&` and `'`: what is left cannot end the text or the
value, nor be read as a reference.

Text a snippet printed may hold control characters. Python-Markdown marks its placeholders with
two of them (\x02 and \x03) and fills any it finds in the finished page, ours included, and a
browser reads a CR as a line break: `text` shows each as the symbol that pictures it.
"""

from __future__ import annotations

#: C0 controls but tab and line feed, and DEL, to their Control Pictures (U+2400 block).
_PICTURES = {code: 0x2400 + code for code in range(0x20) if chr(code) not in "\t\n"} | {
    0x7F: 0x2421
}


def visible(value: str) -> str:
    """`value` with its control characters (but tab and line feed) shown as symbols."""
    return value.translate(_PICTURES)


def text(value: str) -> str:
    """`value` as the text of an element (not of a <script> or <style>)."""
    return visible(value).replace("&", "&amp;").replace("<", "&lt;")


def attribute(value: str) -> str:
    """`value` as an attribute's value, its quotes included: `name={attribute(value)}`."""
    return "'" + value.replace("&", "&amp;").replace("'", "&#39;") + "'"
