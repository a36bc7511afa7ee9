"""``python -m mmcli``: the same as the ``mmcli`` console script."""

from mmcli.cli.app import main

if __name__ == "__main__":
    main()
