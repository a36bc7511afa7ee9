"""``python -m mmcli`` and the ``mmcli`` console script (``[project.scripts]``).

The CLI is imported inside :func:`main`, not here: a decoding worker started by
multiprocessing re-runs the console script under another name, and would otherwise import
the whole CLI (Typer, rich, every command module: ~0.12 CPU s a worker) for nothing.
"""

import sys


def main() -> None:
    """Console-script entry point: run the ``mmcli`` command. A preprocess that will likely
    decode in a pool starts the pool's fork server first (:mod:`mmcli.cli.warm`)."""
    from mmcli.cli.warm import warm

    with warm(sys.argv[1:]):
        from mmcli.cli.app import main as run

        run()


if __name__ == "__main__":
    main()
