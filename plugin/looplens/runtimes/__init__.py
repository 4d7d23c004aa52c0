"""The runtimes snippets are proven on: several Node releases and CPython versions, side by side.

A reader runs a snippet on their own Node or Python, so a page proves it on each release a reader
is likely to have (runtime.py names them, node.py and python.py find them on the machine,
install.py installs the Node releases beside one another, matrix.py is a site's chosen set).
"""
