"""``mmcli train DATA --out BUNDLE``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from mmcli.cli import options as opt
from mmcli.cli.errors import reports_errors
from mmcli.cli.helptext import literal, one_of
from mmcli.cli.output import emit_json, make_console, rejected_line, render_unused, warn
from mmcli.config import (
    CLASS_WEIGHTS,
    FUSIONS,
    IMAGE_ENCODERS,
    IMAGE_WEIGHTS,
    TEXT_ENCODERS,
    ModelConfig,
    TrainConfig,
)
from mmcli.io.tables import FORMATS
from mmcli.registry import HUB_SUMMARY

TRAIN = "Training"
MODEL = "Model"
HEAD = "Head and loss"
CONFIG = "Configuration"
WARNING_LINE = "[yellow]warning: "

IMAGE_ENCODER_NOTES = {"small_cnn": "from scratch; the others are Keras applications backbones"}
TEXT_ENCODER_NOTES = {"bow": "TF-IDF 1-2-grams", "embedding": "mean of word embeddings", "cnn": "1-D convolutions", "transformer": "one block"}
FUSION_NOTES = {"gated": "learned per-row weights", "late": "a head per modality, logits mixed by learned weights", "attention": "cross-modal attention over modality tokens"}
IMAGE_WEIGHTS_NOTES = {"imagenet": "from the Keras cache ~/.keras/models or downloaded; an error naming the fix when neither works", "auto": "imagenet, else small_cnn with a note"}
CLASS_WEIGHT_NOTES = {"balanced": "weight each class by n / (classes x its count) on the training split"}

TRAINING = opt.group(
    TrainConfig,
    epochs=Annotated[int | None, typer.Option(help="Most epochs; early stopping may end sooner.", min=1, rich_help_panel=TRAIN)],
    batch_size=Annotated[int | None, typer.Option(help="Rows per batch.", min=1, rich_help_panel=TRAIN)],
    learning_rate=Annotated[float | None, typer.Option(help="Peak learning rate (AdamW, warm-up then cosine decay).", rich_help_panel=TRAIN)],
    patience=Annotated[int | None, typer.Option(help="Epochs without validation improvement before stopping.", min=1, rich_help_panel=TRAIN)],
    val_fraction=Annotated[float | None, typer.Option(help="Share of training rows held out for validation when the table has no 'val' rows.", rich_help_panel=TRAIN)],
    seed=Annotated[int | None, typer.Option(help="Seed for splits, initialization, shuffling and augmentation.", rich_help_panel=TRAIN)],
    deterministic=Annotated[bool | None, typer.Option("--deterministic", help="Turn on TensorFlow op determinism (slower).", rich_help_panel=TRAIN)],
    label_smoothing=Annotated[float | None, typer.Option(help="Label smoothing of the cross-entropy, in [0, 0.5).", rich_help_panel=HEAD)],
    class_weight=Annotated[str | None, typer.Option(help=f"Class weights: {one_of(CLASS_WEIGHTS, CLASS_WEIGHT_NOTES)}.", rich_help_panel=HEAD)],
    multi_label=Annotated[bool | None, typer.Option("--multi-label", help="Each label cell holds several labels (split on --label-delimiter): sigmoid head, binary cross-entropy, a threshold per label tuned on validation.", rich_help_panel=HEAD)],
    label_delimiter=Annotated[str | None, typer.Option(help="Separator of the labels in a cell with --multi-label.", rich_help_panel=HEAD)],
)
MODEL_OPTIONS = opt.group(
    ModelConfig,
    fusion=Annotated[str | None, typer.Option(help=f"How modalities are combined: {one_of(FUSIONS, FUSION_NOTES)}.", rich_help_panel=MODEL)],
    embed_dim=Annotated[int | None, typer.Option(help="Size of each modality's embedding.", min=1, rich_help_panel=MODEL)],
    image_encoder=Annotated[str | None, typer.Option(help=f"Image encoder: {one_of(IMAGE_ENCODERS, IMAGE_ENCODER_NOTES)}.", rich_help_panel=MODEL)],
    image_weights=Annotated[str | None, typer.Option(help=f"Backbone weights: {one_of((*IMAGE_WEIGHTS, 'the PATH of a weights file'), IMAGE_WEIGHTS_NOTES)}.", rich_help_panel=MODEL)],
    image_alpha=Annotated[float | None, typer.Option(help="Width multiplier of the mobilenet backbones.", rich_help_panel=MODEL)],
    freeze_backbone=Annotated[bool | None, typer.Option("--freeze-backbone/--train-backbone", help="Keep the backbone's weights fixed (its features are computed once and epochs train only the rest) or fine-tune it.", rich_help_panel=MODEL, show_default=False)],
    text_encoder=Annotated[str | None, typer.Option(help=f"Text encoder: {one_of(TEXT_ENCODERS, TEXT_ENCODER_NOTES)}; or {literal(HUB_SUMMARY)}.", rich_help_panel=MODEL)],
    modality_dropout=Annotated[float | None, typer.Option(help="Chance of hiding each modality of a training row, so the model also learns from one alone.", rich_help_panel=MODEL)],
)


@reports_errors
@opt.table_flags(opt.READING + opt.CLEANING + opt.CACHING)
@opt.adds(MODEL_OPTIONS, into="model")
@opt.adds(TRAINING, into="training")
def train(
    ctx: typer.Context,
    data: Annotated[list[str] | None, typer.Argument(help=f"A prepared folder, or a raw table ({one_of(FORMATS)}; - for stdin); or several prepared folders (repeated, or a quoted glob such as 'parts/part-*') read as one dataset.", show_default=False)] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", callback=opt.not_stdout, help="The bundle folder to write.", rich_help_panel=opt.OUTPUT, show_default=False)] = None,
    training: dict = opt.FROM_GROUP,
    model: dict = opt.FROM_GROUP,
    flags: opt.TableFlags = opt.FROM_GROUP,
    config_file: Annotated[Path | None, typer.Option("--config", help="A TOML run configuration (tables \\[prep], \\[model], \\[train]); flags and --set override it.", rich_help_panel=CONFIG, show_default=False)] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Override one setting, e.g. --set train.epochs=5 (repeatable; wins over --config and flags).", rich_help_panel=CONFIG, show_default=False)] = None,
    print_config: Annotated[bool, typer.Option("--print-config", help="Print the resolved configuration as TOML on stdout and exit (no training).", rich_help_panel=CONFIG)] = False,
    force: opt.Force = False,
    engine_export: Annotated[bool, typer.Option("--engine-export/--no-engine-export", envvar="MMCLI_ENGINE_EXPORT", help="Also write the model's LiteRT export into the bundle (engine/), so mmcli predict runs without TensorFlow (MMCLI_ENGINE_EXPORT=0 turns it off by default).", rich_help_panel=opt.OUTPUT)] = True,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the interrupted run into --out from its last checkpoint (<out>.ckpt/); needs the same data and flags.", rich_help_panel=opt.OUTPUT)] = False,
    strategy: Annotated[str, typer.Option("--strategy", help="Where to train: auto (multi-worker when TF_CONFIG describes a cluster, mirrored with several GPUs, else one), one device, mirrored (the GPUs of this machine), multi-worker (TF_CONFIG's cluster; the chief writes the bundle). The global batch is --batch-size, split across replicas; the learning rate is not rescaled.", rich_help_panel="Distribution")] = "auto",
    mixed_precision: Annotated[bool, typer.Option("--mixed-precision", help="float16 compute with float32 variables (for GPUs).", rich_help_panel="Distribution")] = False,
    quiet: opt.Quiet = False,
    tensorboard: Annotated[Path | None, typer.Option("--tensorboard", help="Write TensorBoard logs here (per epoch: losses, metrics, learning rate, fusion weights); needs pip install 'mmcli\\[tensorboard]'.", rich_help_panel=opt.OUTPUT, show_default=False)] = None,
) -> None:
    """Train a fused multimodal classifier on DATA (a prepared folder, or a raw table that is
    then preprocessed with the same code) and write the bundle folder.

    Rows whose split is 'test' are never used for training. Prints the bundle's metadata
    (validation accuracy, each modality alone, fusion weights) as JSON on stdout.

    Settings come from the defaults, then --config run.toml, then the flags, then --set; --print-config shows the result.

    Example: mmcli train sample_data/data.csv --out model/ --seed 1
    """
    from mmcli.config_io import resolve_config, to_toml
    from mmcli.errors import UsageError

    config = resolve_config(file=config_file, sets=set_ or (),
                            flags={"prep": flags.prep, "model": model, "train": training})
    if print_config:
        sys.stdout.write(to_toml(config))
        return
    if not data or out is None:
        raise UsageError("train needs DATA and --out BUNDLE (or --print-config)")
    from mmcli.api.train import train as run_training
    from mmcli.tasks import task_for

    console = make_console(quiet)
    console.print(f"training on {' '.join(data)} -> {out}", markup=False)
    meta = run_training(data[0] if len(data) == 1 else data, config, out, force=force,
                        fmt=flags.input_format, console=console, command=command_line(ctx),
                        resume=resume, engine_export=engine_export, tensorboard=tensorboard,
                        on_warning=lambda message: warn(console, message),
                        strategy=strategy, mixed_precision=mixed_precision)
    task = task_for(config.train)
    for line in task.train_lines(meta):
        if line.startswith(WARNING_LINE):  # shown with --quiet too
            warn(console, line[len(WARNING_LINE):].removesuffix("[/]"))
        else:
            console.print(line)
    render_unused(console, meta.get("roles", {}))
    data_meta = meta["data"]
    if data_meta.get("rejected"):
        warn(console, rejected_line(data_meta["rows"], data_meta["rejected"],
                                    data_meta["rejected_by_reason"]) + " (not trained on)")
    emit_json({"bundle": str(out), **{k: meta[k] for k in
               ("labels", "modalities", "roles", "data", "training", "validation", "head",
                *task.state_keys)}, "encoders": _encoders(meta),
               "warnings": meta["data"].get("warnings", [])})


def _encoders(meta: dict) -> dict[str, str]:
    """Each modality's encoder as trained (e.g. ``{"text": "hub:bert_tiny_en_uncased"}``),
    for the kinds that have a choice of encoders."""
    from mmcli.modalities import kind_of

    model = meta.get("config", {}).get("model", {})
    chosen = {m: model.get(f"{kind_of(m)}_encoder") for m in meta["modalities"]}
    return {m: encoder for m, encoder in chosen.items() if encoder}


def command_line(ctx: typer.Context) -> list[str]:
    """The command as the user gave it (the parameters not left at their default), as argv."""
    words = ["mmcli", ctx.info_name or "train"]
    for param in ctx.command.params:
        source = ctx.get_parameter_source(param.name)
        value = ctx.params.get(param.name)
        if source is None or source.name not in ("COMMANDLINE", "ENVIRONMENT") or value is None:
            continue
        if not param.opts[0].startswith("-"):
            words += [str(v) for v in (value if isinstance(value, (list, tuple)) else [value])]
        elif getattr(param, "is_flag", False):
            words.append(param.opts[0] if value else (param.secondary_opts or param.opts)[0])
        else:
            for item in value if isinstance(value, (list, tuple)) else [value]:
                words += [param.opts[0], str(item)]
    return words

