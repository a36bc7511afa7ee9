"""``python -m mmcli`` and the ``mmcli`` console script (``[project.scripts]``).

The CLI is imported inside :func:`main`, not here: a decoding worker started by
multiprocessing re-runs the console script under another name, and would otherwise import
the whole CLI (Typer, rich, every command module: ~0.12 CPU s a worker) for nothing.
"""


def main() -> None:
    """Console-script entry point: run the ``mmcli`` command, then end the process without
    the interpreter's teardown (:func:`mmcli.cli.quick_exit.quick_exit`)."""
    from mmcli.cli.app import main as run
    from mmcli.cli.quick_exit import quick_exit

    try:
        run()
    except SystemExit as exc:
        quick_exit(exc.code)
    quick_exit(0)


if __name__ == "__main__":
    main()
