"""The CLI starts fast: importing it or asking for help never loads TensorFlow, pandas or
Optuna."""

import subprocess
import sys

import pytest

COMMANDS = ["preprocess", "train", "evaluate", "predict", "serve", "tune"]


def test_import_and_help_do_not_import_heavy_libraries():
    code = (
        "import sys, mmcli, mmcli.cli.app, mmcli.tasks, mmcli.bundle\n"
        "from typer.testing import CliRunner\n"
        "r = CliRunner().invoke(mmcli.cli.app.app, ['--help'])\n"
        "assert r.exit_code == 0, r.output\n"
        "for c in ('preprocess', 'check', 'train', 'evaluate', 'predict', 'inspect', 'serve',\n"
        "          'tune', 'export'):\n"
        "    assert CliRunner().invoke(mmcli.cli.app.app, [c, '--help']).exit_code == 0\n"
        "heavy = [m for m in ('tensorflow', 'keras', 'pandas', 'fastapi', 'uvicorn', 'starlette',\n"
        "                     'optuna', 'onnxruntime', 'ai_edge_litert', 'keras_hub')\n"
        "         if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_python_dash_m_runs_the_cli():
    done = subprocess.run(
        [sys.executable, "-m", "mmcli", "--version"], capture_output=True, text=True
    )
    assert done.returncode == 0
    assert done.stdout.startswith("mmcli ")


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(runner, app, command):
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.stdout
