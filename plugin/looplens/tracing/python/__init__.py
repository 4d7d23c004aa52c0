"""The host side of the asyncio tracer: the command and environment that load it (tracers/python),
and the reading of its records into a Trace."""
