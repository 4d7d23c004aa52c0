"""Error classes. Every message starts with where the problem is: `page:line: snippet 'id': …`."""


class LooplensError(Exception):
    """Base class of every error that looplens raises on purpose."""


class TracerError(LooplensError):
    """The snippet could not be traced: runtime missing, tracer failure, time limit."""


class SnippetError(LooplensError):
    """A traced fence is written wrongly: missing id, unknown language, missing include."""
