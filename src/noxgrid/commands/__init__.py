"""The command line: one module per command, each adding its parser and its handler."""
