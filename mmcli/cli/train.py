"""``mmcli train DATA --out BUNDLE``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from mmcli.cli import options as opt
from mmcli.cli.errors import reports_errors
from mmcli.cli.output import emit_json, make_console

TRAIN = "Training"
MODEL = "Model"
HEAD = "Head and loss"
CONFIG = "Configuration"


@reports_errors
def train(
    ctx: typer.Context,
    data: Annotated[str | None, typer.Argument(help="A prepared folder, or a raw table (csv, tsv, jsonl, parquet; - for stdin).", show_default=False)] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="The bundle folder to write.", rich_help_panel=opt.OUTPUT, show_default=False)] = None,
    epochs: Annotated[int | None, typer.Option(help="Most epochs; early stopping may end sooner \\[default: 40].", min=1, rich_help_panel=TRAIN)] = None,
    batch_size: Annotated[int | None, typer.Option(help="Rows per batch \\[default: 32].", min=1, rich_help_panel=TRAIN)] = None,
    learning_rate: Annotated[float | None, typer.Option(help="Peak learning rate (AdamW, warm-up then cosine decay) \\[default: 0.003].", rich_help_panel=TRAIN)] = None,
    patience: Annotated[int | None, typer.Option(help="Epochs without validation improvement before stopping \\[default: 6].", min=1, rich_help_panel=TRAIN)] = None,
    val_fraction: Annotated[float | None, typer.Option(help="Share of training rows held out for validation when the table has no 'val' rows \\[default: 0.15].", rich_help_panel=TRAIN)] = None,
    seed: Annotated[int | None, typer.Option(help="Seed for splits, initialization, shuffling and augmentation \\[default: 0].", rich_help_panel=TRAIN)] = None,
    deterministic: Annotated[bool | None, typer.Option("--deterministic", help="Turn on TensorFlow op determinism (slower).", rich_help_panel=TRAIN)] = None,
    label_smoothing: Annotated[float | None, typer.Option(help="Label smoothing of the cross-entropy, in [0, 0.5) \\[default: 0].", rich_help_panel=HEAD)] = None,
    class_weight: Annotated[str | None, typer.Option(help="none, or balanced: weight each class by n / (classes x its count) on the training split \\[default: none].", rich_help_panel=HEAD)] = None,
    multi_label: Annotated[bool | None, typer.Option("--multi-label", help="Each label cell holds several labels (split on --label-delimiter): sigmoid head, binary cross-entropy, a threshold per label tuned on validation.", rich_help_panel=HEAD)] = None,
    label_delimiter: Annotated[str | None, typer.Option(help="Separator of the labels in a cell with --multi-label \\[default: '|'].", rich_help_panel=HEAD)] = None,
    fusion: Annotated[str | None, typer.Option(help="How modalities are combined: gated (learned per-row weights), late (a head per modality, logits mixed by learned weights), attention (cross-modal attention over modality tokens) or concat \\[default: gated].", rich_help_panel=MODEL)] = None,
    embed_dim: Annotated[int | None, typer.Option(help="Size of each modality's embedding \\[default: 64].", min=1, rich_help_panel=MODEL)] = None,
    image_encoder: Annotated[str | None, typer.Option(help="Image encoder: small_cnn (from scratch), mobilenet, mobilenet_v3_small, efficientnet_b0 (Keras applications backbones) \\[default: mobilenet].", rich_help_panel=MODEL)] = None,
    image_weights: Annotated[str | None, typer.Option(help="Backbone weights: imagenet (from the Keras cache ~/.keras/models or downloaded; an error naming the fix when neither works), auto (imagenet, else small_cnn with a note), none, or the PATH of a weights file \\[default: auto].", rich_help_panel=MODEL)] = None,
    image_alpha: Annotated[float | None, typer.Option(help="Width multiplier of mobilenet / mobilenet_v3_small \\[default: 0.25].", rich_help_panel=MODEL)] = None,
    freeze_backbone: Annotated[bool | None, typer.Option("--freeze-backbone/--train-backbone", help="Keep the backbone's weights fixed (its features are computed once and epochs train only the rest) or fine-tune it \\[default: freeze].", rich_help_panel=MODEL)] = None,
    text_encoder: Annotated[str | None, typer.Option(help="Text encoder: bow (TF-IDF 1-2-grams), embedding (mean of word embeddings), cnn (1-D convolutions), transformer (one block) \\[default: bow].", rich_help_panel=MODEL)] = None,
    modality_dropout: Annotated[float | None, typer.Option(help="Chance of hiding each modality of a training row, so the model also learns from one alone \\[default: 0.2].", rich_help_panel=MODEL)] = None,
    id_col: opt.IdCol = None,
    image_col: opt.ImageCol = None,
    text_col: opt.TextCol = None,
    label_col: opt.LabelCol = None,
    split_col: opt.SplitCol = None,
    input_format: opt.InputFormat = None,
    encoding: opt.Encoding = None,
    text_sep: opt.TextSep = None,
    text_inputs: opt.TextInputs = None,
    image_root: opt.ImageRoot = None,
    image_dir: opt.ImageDir = None,
    join: opt.Join = None,
    label_case: opt.LabelCase = None,
    label_map: opt.LabelMap = None,
    duplicates: opt.Duplicates = None,
    min_image_side: opt.MinImageSide = None,
    max_pixels: opt.MaxPixels = None,
    cache: opt.Cache = None,
    image_size: opt.ImageSize = None,
    on_missing: opt.OnMissing = None,
    lowercase: opt.Lowercase = None,
    max_text_chars: opt.MaxTextChars = None,
    allow_outside_root: opt.AllowOutsideRoot = None,
    workers: opt.Workers = None,
    config_file: Annotated[Path | None, typer.Option("--config", help="A TOML run configuration (tables \\[prep], \\[model], \\[train]); flags and --set override it.", rich_help_panel=CONFIG, show_default=False)] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Override one setting, e.g. --set train.epochs=5 (repeatable; wins over --config and flags).", rich_help_panel=CONFIG, show_default=False)] = None,
    print_config: Annotated[bool, typer.Option("--print-config", help="Print the resolved configuration as TOML on stdout and exit (no training).", rich_help_panel=CONFIG)] = False,
    force: opt.Force = False,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the interrupted run into --out from its last checkpoint (<out>.ckpt/); needs the same data and flags.", rich_help_panel=opt.OUTPUT)] = False,
    quiet: opt.Quiet = False,
) -> None:
    """Train a fused image + text classifier on DATA (a prepared folder, or a raw table that is
    then preprocessed with the same code) and write the bundle folder.

    Rows whose split is 'test' are never used for training. Prints the bundle's metadata
    (validation accuracy, each modality alone, fusion weights) as JSON on stdout.

    Settings come from the defaults, then --config run.toml, then the flags, then --set; --print-config shows the result.

    Example: mmcli train sample_data/data.csv --out model/ --seed 1
    """
    from mmcli.config_io import resolve_config, to_toml
    from mmcli.errors import UsageError

    config = resolve_config(file=config_file, sets=set_ or (), flags={
        "prep": opt.prep_flags(
            id_col=id_col, image_col=image_col, text_col=text_col, label_col=label_col,
            split_col=split_col, image_size=image_size, on_missing=on_missing,
            lowercase=lowercase, max_text_chars=max_text_chars,
            allow_outside_root=allow_outside_root, workers=workers, encoding=encoding,
            text_sep=text_sep, text_inputs=text_inputs, image_root=image_root, image_dir=image_dir, join=join,
            label_case=label_case, label_map=label_map, duplicates=duplicates,
            min_image_side=min_image_side, max_pixels=max_pixels, cache=cache),
        "model": {"fusion": fusion, "embed_dim": embed_dim, "image_encoder": image_encoder,
                  "image_weights": image_weights, "image_alpha": image_alpha,
                  "freeze_backbone": freeze_backbone, "text_encoder": text_encoder,
                  "modality_dropout": modality_dropout},
        "train": {"epochs": epochs, "batch_size": batch_size, "learning_rate": learning_rate,
                  "patience": patience, "val_fraction": val_fraction, "seed": seed,
                  "deterministic": deterministic, "label_smoothing": label_smoothing,
                  "class_weight": class_weight, "multi_label": multi_label,
                  "label_delimiter": label_delimiter},
    })
    if print_config:
        sys.stdout.write(to_toml(config))
        return
    if data is None or out is None:
        raise UsageError("train needs DATA and --out BUNDLE (or --print-config)")
    from mmcli.api.train import train as run_training
    from mmcli.tasks import task_for

    console = make_console(quiet)
    console.print(f"training on {data} -> {out}")
    meta = run_training(data, config, out, force=force, fmt=input_format, console=console,
                        command=command_line(ctx), resume=resume)
    task = task_for(config.train)
    for line in task.train_lines(meta):
        console.print(line)
    emit_json({"bundle": str(out), **{k: meta[k] for k in
               ("labels", "modalities", "data", "training", "validation", "head",
                *task.state_keys)}})


def command_line(ctx: typer.Context) -> list[str]:
    """The command as the user gave it (the parameters not left at their default), as argv."""
    words = ["mmcli", ctx.info_name or "train"]
    for param in ctx.command.params:
        source = ctx.get_parameter_source(param.name)
        value = ctx.params.get(param.name)
        if source is None or source.name not in ("COMMANDLINE", "ENVIRONMENT") or value is None:
            continue
        if not param.opts[0].startswith("-"):
            words.append(str(value))
        elif getattr(param, "is_flag", False):
            words.append(param.opts[0] if value else (param.secondary_opts or param.opts)[0])
        else:
            for item in value if isinstance(value, (list, tuple)) else [value]:
                words += [param.opts[0], str(item)]
    return words

