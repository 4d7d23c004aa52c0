"""Stage 1, Markdown → Snippet: find a page's traced fences, with their lines, before Markdown runs.

scan.py reads fences as SuperFences will; collect.py turns each traced fence and the {.expect}
fences after it into a checked Snippet, reading its options (options.py) and expected outputs
(expected_output.py); pages.py scans each page of a build once.
"""
