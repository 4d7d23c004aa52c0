"""The host side of the Node tracer: the bundled Node binary, the command that loads the preload
(tracers/node), and the reading of its records into a Trace."""
