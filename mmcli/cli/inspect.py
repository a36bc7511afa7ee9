"""``mmcli inspect BUNDLE``: the bundle's metadata as JSON, without importing TensorFlow."""

from __future__ import annotations

from typing import Annotated

import typer

from mmcli.cli import options as opt
from mmcli.cli.errors import reports_errors
from mmcli.cli.output import emit_json


@reports_errors
def inspect(
    bundle: opt.BundleArg,
    verify: Annotated[bool, typer.Option("--verify/--no-verify", help="Check every file's SHA-256 against bundle.json.")] = True,
    quiet: opt.Quiet = False,
) -> None:
    """Print a bundle's metadata as JSON: labels, modalities, config, validation metrics,
    training, versions and files (with their sizes). Never loads the model or TensorFlow.

    Example: mmcli inspect model/ | jq .labels
    """
    from mmcli.api.inspect import inspect as describe

    del quiet  # inspect prints nothing on stderr but errors: accepted like every command's
    emit_json(describe(bundle, verify=verify))
