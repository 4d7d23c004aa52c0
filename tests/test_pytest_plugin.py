"""The pytest plugin: every traced snippet of docs/ and every file of snippets/ is a test item."""

from __future__ import annotations

import pytest

INI = """\
[pytest]
looplens_docs = docs
looplens_snippets = snippets
"""

PAGE = """\
# A page

```js {{#order .trace}}
setTimeout(() => console.log("timer"), 0);
console.log("sync");
```

```text {{.expect}}
{expected}
```
"""


def write_project(pytester: pytest.Pytester, expected: str) -> None:
    pytester.makefile(".ini", pytest=INI)
    docs = pytester.mkdir("docs")
    (docs / "page.md").write_text(PAGE.format(expected=expected))
    snippets = pytester.mkdir("snippets")
    (snippets / "hello.js").write_text('setImmediate(() => console.log("later"));\n')


def test_a_right_expectation_passes_and_items_are_named_by_page_and_id(
    pytester: pytest.Pytester,
) -> None:
    write_project(pytester, "sync   sync\ntimer  timers")
    result = pytester.runpytest("-v", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "*docs/page.md::order PASSED*",
            "*snippets/hello.js::traced-output-equals-plain-run PASSED*",
        ]
    )


def test_a_wrong_expectation_fails_with_page_line_id_and_diff(pytester: pytest.Pytester) -> None:
    write_project(pytester, "timer  timers\nsync   sync")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*docs/page.md:3: snippet 'order': the real output differs from the expected output*",
            "+sync  [sync]",
            " timer  [timers]",
            "-sync  [sync]",
        ]
    )


def test_traced_python_fences_are_not_also_run_by_pytest_markdown_docs(
    pytester: pytest.Pytester,
) -> None:
    pytester.makefile(".ini", pytest=INI)
    docs = pytester.mkdir("docs")
    (docs / "page.md").write_text(
        "# Python\n\n"
        "```python {#slow .trace}\nimport asyncio\n\nasyncio.run(asyncio.sleep(30))\n"
        'print("woke up")\n```\n\n'
        "```text {.expect}\nwoke up  sync\n```\n\n"
        "```python\nassert 1 + 1 == 2\n```\n"
    )
    result = pytester.runpytest("-v", "-p", "no:cacheprovider", "--markdown-docs")
    # The traced fence runs once, on the virtual clock (no 30 s wait); the plain one as a test.
    result.assert_outcomes(passed=2, deselected=1)
    result.stdout.fnmatch_lines(["*CodeFence#2*PASSED*", "*docs/page.md::slow PASSED*"])
    assert result.duration < 20
