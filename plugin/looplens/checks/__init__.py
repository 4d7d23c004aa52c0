"""Stage 3, Trace → verdict: is what really ran what the author said, and is its order fixed?

expectation.py checks one run against an expected output; judge.py judges a snippet's runs
(which run the page shows, whether its order can change, with races.py for the races one run
reveals); predictable.py guards a .predict question; runtimes.py compares the runs of several
runtimes and across.py judges a snippet on each of them; judged.py judges each snippet of a
build once, where its author wrote it.
"""
