"""Option groups: declared once, added to a command's signature, handed to it as one value."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated

import pytest
import typer

from mmcli.cli import options as opt
from mmcli.cli.helptext import one_of
from mmcli.cli.train import command_line


@dataclass(frozen=True)
class Toy:
    size: int = 7
    mode: str = "fast"
    color: bool = True
    name: str | None = None


TOY = opt.group(
    Toy,
    {"name": "the file's stem"},
    size=Annotated[int | None, typer.Option(help="Size.")],
    mode=Annotated[str | None, typer.Option(help=f"Mode: {one_of(('fast', 'slow'))}.")],
    color=Annotated[bool | None, typer.Option("--color/--no-color", help="Colour.")],
    name=Annotated[str | None, typer.Option(help="Name.")],
)


def toy_app(group: opt.OptionGroup = TOY) -> typer.Typer:
    app = typer.Typer()

    @app.command()
    @opt.adds(group, into="given")
    def run(path: str, given: dict = opt.FROM_GROUP, loud: bool = False) -> None:
        print(json.dumps({"path": path, "given": given, "loud": loud}))

    return app


def test_the_command_gets_one_dict_with_none_for_what_was_not_given(runner):
    result = runner.invoke(toy_app(), ["x.csv", "--size", "3", "--no-color", "--loud"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "path": "x.csv", "loud": True,
        "given": {"size": 3, "mode": None, "color": False, "name": None},
    }


def test_help_shows_the_dataclass_defaults(runner):
    help_text = runner.invoke(toy_app(), ["--help"], env={"COLUMNS": "200"}).stdout
    assert "Size. [default: 7]" in help_text
    assert "Mode: fast or slow. [default: fast]" in help_text
    assert "Colour. [default: color]" in help_text
    assert "Name. [default: the file's stem]" in help_text


def test_a_hidden_option_is_accepted_but_not_shown_and_a_dropped_one_is_refused(runner):
    app = toy_app(TOY.hiding("mode").without("name").overriding("as saved"))
    help_text = runner.invoke(app, ["--help"], env={"COLUMNS": "200"}).stdout
    assert "--mode" not in help_text and "--name" not in help_text
    assert "Size. [default: as saved]" in help_text
    assert json.loads(runner.invoke(app, ["x", "--mode", "slow"]).stdout)["given"]["mode"] == "slow"
    assert runner.invoke(app, ["x", "--name", "n"]).exit_code == 2


def test_a_command_without_the_placeholder_or_with_a_clashing_name_is_refused():
    def no_placeholder(size: int = 0) -> None: ...

    with pytest.raises(TypeError, match="FROM_GROUP"):
        opt.adds(TOY, into="given")(no_placeholder)

    def clash(size: int = 0, given: dict = opt.FROM_GROUP) -> None: ...

    with pytest.raises(TypeError, match="size"):
        opt.adds(TOY, into="given")(clash)
    with pytest.raises(ValueError, match="size"):
        TOY + TOY


def test_a_choice_without_a_note_is_still_listed_and_a_stale_note_is_dropped():
    notes = {"gated": "learned weights", "removed": "no longer a choice"}
    assert one_of(("gated", "new", "concat"), notes) == "gated (learned weights), new or concat"
    assert one_of(("only",)) == "only" and one_of(()) == ""


def test_table_flags_split_the_format_from_the_prep_fields():
    flags = opt.TableFlags.of({"input_format": "tsv", "image_col": ["a"], "text_col": ["t", "u"],
                               "encoding": None})
    assert flags.input_format == "tsv"
    assert dict(flags.prep) == {"image_col": "a", "text_col": ("t", "u"), "encoding": None}
    assert flags.config().text_cols == ("t", "u") and flags.config().encoding == "utf-8"


def test_the_saved_train_command_lists_the_group_flags(app):
    train = typer.main.get_command(app).commands["train"]
    ctx = train.make_context("train", ["data.csv", "--out", "b", "--epochs", "3",
                                       "--encoding", "latin-1", "--text-col", "a", "--text-col",
                                       "b", "--no-cache", "--train-backbone",
                                       "--allow-outside-root"])
    words = command_line(ctx)
    assert words[:3] == ["mmcli", "train", "data.csv"]
    joined = " ".join(words)
    for part in ("--out b", "--epochs 3", "--encoding latin-1", "--text-col a --text-col b",
                 "--no-cache", "--train-backbone", "--allow-outside-root"):
        assert part in joined
    assert "--image-size" not in joined  # left at its default: not part of the command
