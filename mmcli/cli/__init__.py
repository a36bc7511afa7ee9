"""The command-line interface: one module per command, assembled in ``app``."""
