"""Stage 4, judged snippet → HTML: the block a traced fence becomes, in Material's own markup.

formatter.py is the formatter SuperFences calls for each fence (registered by
fence_registration.py); it looks the judged run up and draws block.py's content tabs: the output
table (table.py), the sequence diagram (mermaid.py), the step-through player (player.py), the
predict question (predict.py), a nondeterministic snippet's orderings (orderings.py), with the
code highlighted as SuperFences would (highlighting.py). A drawn block is kept in the cache under
a RenderKey (cache_key.py). A renderer never asks which language produced a trace.
"""
