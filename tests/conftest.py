"""Shared test options."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        help="rewrite the golden files of tests/golden from the current renderers (read the diff!)",
    )


pytest_plugins = ["pytester"]

# Snippet files that the tracer tests run as programs; importing them (pytest-markdown-docs looks
# for fences in every module's docstrings) would run them inside pytest.
collect_ignore_glob = ["cases/*"]
