"""Stage 2, Snippet → Trace: run a snippet through the tracer of its language and build its Trace.

run.py traces one snippet from a fresh folder; pool.py runs a build's snippets many at a time,
named in the cache by digests.py; child.py starts a tracer's process in the sandbox and reads its
side channel. Each language's host side is a folder (node/, python/): the command and environment
of its tracer, and the reader of its records. What both readers share: output.py lines up recorded
writes with the real bytes, assembly.py numbers the callbacks that matter into the Trace, and
display.py hides the run's temporary folder from printed text. The tracers proper, which run
inside each snippet's process, are the package's tracers/ folder.
"""
