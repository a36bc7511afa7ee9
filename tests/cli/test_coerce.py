"""Option values converted without pydantic (mmcli.cli.coerce) are exactly Typer's: the same
value and type, or the same error, for every option of every command; and a preprocess run
with plain values never imports pydantic."""

import subprocess
import sys

import pytest
import typer.core
from typer._click import Context
from typer.main import get_command

from mmcli.cli.app import app
from mmcli.cli.coerce import PlainFirst, install

SAMPLES = [
    None, "", "abc", " x ", "-", "ü", "0", "8", "64", "-1", "-0", "007", "+5", " 5", "1e3",
    "1.0", "0.5", "-0.25", ".5", "5.", "inf", "nan", "1_000", "99999999999999999999", "٣",
    "/tmp", "out/dir", ("a", "b"), (), ["x"], True, 3,
]


def _typer_build():
    build = typer.core.build_runtime_param
    return build._original if hasattr(build, "_original") else None


def _outcome(convert, value, param, ctx):
    try:
        result = convert.coerce(value, param=param, ctx=ctx)
    except Exception as exc:  # noqa: BLE001 - the error is the outcome compared
        return ("error", type(exc).__name__, str(exc))
    return ("value", type(result).__name__, repr(result))


def test_plain_values_are_converted_exactly_as_typer_converts_them():
    assert install()
    original = typer.core.build_runtime_param._original
    group = get_command(app)
    compared = 0
    for command in group.commands.values():
        ctx = Context(command)
        for param in command.params:
            descriptor = param.type_descriptor
            ours, theirs = PlainFirst(descriptor, original), original(descriptor)
            for value in SAMPLES:
                assert _outcome(ours, value, param, ctx) == _outcome(theirs, value, param, ctx), (
                    command.name, param.name, value)
                compared += 1
    assert compared > 5000  # every option of every command (~300) met every sample


def test_a_preprocess_run_with_plain_values_imports_no_pydantic(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("id,text,label\n1,red apple pie,a\n2,green pear tart,b\n")
    code = (
        "import sys\n"
        "from mmcli.cli.app import main\n"
        f"sys.argv = ['mmcli', 'preprocess', {str(table)!r}, '--out', {str(tmp_path / 'p')!r},"
        " '--workers', '2', '--max-missing-fraction', '0.5', '--quiet']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    assert exc.code in (0, None), exc.code\n"
        "print('pydantic' in sys.modules, file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "False"
    assert (tmp_path / "p" / "schema.json").is_file()


@pytest.mark.parametrize("args, message", [
    (["--image-size", "0"], "greater than or equal to 8"),
    (["--workers", "x"], "valid integer"),
])
def test_values_that_are_not_plain_get_typers_errors(runner, tmp_path, args, message):
    result = runner.invoke(app, ["preprocess", "t.csv", "--out", str(tmp_path / "p"), *args])
    assert result.exit_code == 2
    assert message in result.output
