"""``python -m centerir``: cross-validate one config, fit a final model, predict. No Ray.

Every user error (bad data, bad config, bad flag: a ``UserError``) ends in one line on
stderr and exit code 2, before anything is written; anything else is a bug and ends in a
traceback with exit code 1. A run whose training diverged (a NaN or inf loss, weight or
prediction) is a result, not an error: it says where and exits with code 3 (train still
writes its metrics, with status diverged; fit-final writes no model).
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from centerir.baselines import constant_predictor_cv
from centerir.command_line import (
    DIVERGED_EXIT,
    OneLineParser,
    check_output_path,
    finite_number,
    run_command,
    whole_number,
)
from centerir.config import PRECISIONS, Config, ConfigError, format_k, load_config
from centerir.contract import Role, Status, UserError, std_key, write_json_file
from centerir.cv import (
    Callback,
    CVResult,
    FoldResult,
    check_k_set_fits,
    check_labels_fit_k,
    cross_validate,
)
from centerir.data import DataError, EEGDataset, check_for_cv, check_window_length, load_dataset
from centerir.data_meta import META_FILE, meta_path
from centerir.demo import make_demo_dataset
from centerir.model import min_n_times
from centerir.persist import DATA_META_KEY, load_model_file, predict_windows, save_model_file
from centerir.prepare_cli import add_prepare_parser, run_prepare
from centerir.runtime import configure_runtime
from centerir.training import check_model_size, fit_model, precision_note, resolve_device

EXIT_CODES = (
    "exit codes: 0 done; 1 a bug in centerir (with a traceback); 2 bad input (one line, "
    "nothing written); 3 training diverged (NaN or inf; try a lower --lr); 130 interrupted."
)

FLAG_KEYS = {  # command-line flag dest -> config key
    "folds": "folds",
    "epochs": "epochs",
    "batch_size": "batch_size",
    "lr": "lr",
    "boundaries": "boundaries",
    "k": "k",
    "lambda_": "lambda",
    "seed": "seed",
    "selection": "selection",
    "patience": "patience",
    "remainder": "remainder",
    "precision": "precision",
}


class ProgressBar(Callback):
    """A tqdm bar per fold over epochs, on stderr."""

    def __init__(self, config: Config):
        self.config = config
        self.bar = None

    def on_epoch_end(self, fold: int, epoch: int, logs: dict[str, float]) -> None:
        if self.bar is None:
            self.bar = tqdm(
                total=self.config.epochs,
                desc=f"fold {fold + 1}/{self.config.folds}",
                unit="epoch",
                leave=False,
                file=sys.stderr,
            )
        self.bar.update(1)
        postfix = {"loss": f"{logs['train_loss']:.3f}"}
        if not math.isnan(logs["val_mae"]):
            postfix["val_mae"] = f"{logs['val_mae']:.3f}"
        self.bar.set_postfix(postfix)

    def on_fold_end(self, fold: FoldResult, result: CVResult) -> None:
        self.close()
        tqdm.write(
            f"fold {fold.fold + 1}/{self.config.folds}: MAE {fold.metrics['mae']:.3f} "
            f"(epoch {fold.selected_epoch}, {fold.seconds:.1f} s)",
            file=sys.stderr,
        )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def add_data_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--x",
        type=Path,
        help="EEG windows .npy, shape (N, 1, C, T) or (N, C, T); "
        "omit --x and --y to use the built-in synthetic demo data",
    )
    parser.add_argument("--y", type=Path, help="scores .npy, shape (N,) or (N, 1)")
    parser.add_argument(
        "--groups",
        type=Path,
        help="subject id per window .npy, shape (N,): keeps subjects out of "
        "both sides of a split (strongly recommended)",
    )


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        help="JSON, TOML or YAML file of config keys (e.g. an exported best "
        "config); flags given here override it",
    )
    defaults = Config()
    parser.add_argument(
        "--folds",
        type=whole_number,
        help=f"outer cross-validation folds (default {defaults.folds})",
    )
    parser.add_argument(
        "--epochs", type=whole_number, help=f"most epochs per fold (default {defaults.epochs})"
    )
    parser.add_argument(
        "--batch-size",
        type=whole_number,
        help=f"training batch size (default {defaults.batch_size})",
    )
    parser.add_argument(
        "--lr", type=finite_number, help=f"Adam learning rate (default {defaults.lr:g})"
    )
    parser.add_argument(
        "--boundaries",
        type=whole_number,
        help=f"equal-width label bins CenterIR groups (default {defaults.boundaries})",
    )
    parser.add_argument(
        "--k", help=f"CenterIR group sizes in bins (default {format_k(defaults.k)})"
    )
    parser.add_argument(
        "--lambda",
        dest="lambda_",
        type=finite_number,
        help=f"weight of the CenterIR term (default {defaults.lambda_:g}; 0: plain MSE)",
    )
    parser.add_argument(
        "--remainder",
        choices=("group", "strict"),
        help="when k does not divide the kept bins: 'group' makes a smaller "
        "last group (default), 'strict' refuses",
    )
    parser.add_argument(
        "--seed", type=whole_number, help="seed of folds, weights, batch order (default 42)"
    )
    parser.add_argument(
        "--selection",
        choices=("inner", "test"),
        help="pick each fold's epoch on an inner validation split (default) or "
        "on the test fold as published ('test': optimistic)",
    )
    parser.add_argument(
        "--patience",
        type=whole_number,
        help="stop a fold after this many epochs without validation improvement "
        "(default 15; 0 = never)",
    )
    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        help="arithmetic of the training forward pass: 'bf16' autocasts it to bfloat16 on "
        "CUDA (a CPU trains in fp32); default fp32",
    )
    parser.add_argument(
        "--device", default="auto", help="'auto' (CUDA when available), 'cpu', 'cuda' or 'cuda:N'"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m centerir", description=__doc__.splitlines()[0], epilog=EXIT_CODES
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    train = commands.add_parser(
        "train",
        help="k-fold cross-validation of one config",
        description="Leakage-free k-fold CV of CNN-BiLSTM + CenterIR for one config.",
        epilog=EXIT_CODES,
    )
    add_data_flags(train)
    add_config_flags(train)
    train.add_argument(
        "--out", type=Path, help="folder for metrics.json and out-of-fold predictions.csv"
    )
    final = commands.add_parser(
        "fit-final",
        help="train one model on all data and save it",
        description="Train on all windows for the median epoch a CV selects (or --final-epochs) "
        "and save weights, config and channel statistics.",
        epilog=EXIT_CODES,
    )
    add_data_flags(final)
    add_config_flags(final)
    final.add_argument("--out", type=Path, required=True, help="model file to write, e.g. model.pt")
    final.add_argument(
        "--final-epochs",
        type=whole_number,
        help="train exactly this many epochs and skip the cross-validation that "
        "otherwise picks the median selected epoch",
    )
    predict = commands.add_parser(
        "predict",
        help="predict scores with a saved model",
        description="Predict a score for every window with a model from fit-final.",
        epilog=EXIT_CODES,
    )
    predict.add_argument("--model", type=Path, required=True, help="model file from fit-final")
    predict.add_argument("--x", type=Path, required=True, help="EEG windows .npy")
    predict.add_argument("--out", type=Path, required=True, help="CSV file to write")
    predict.add_argument("--device", default="auto", help="'auto', 'cpu', 'cuda' or 'cuda:N'")
    add_prepare_parser(commands)
    return parser


def config_from_args(args: argparse.Namespace) -> Config:
    """Defaults < --config file < flags."""
    config = load_config(args.config) if args.config else Config()
    flags = {
        key: getattr(args, dest)
        for dest, key in FLAG_KEYS.items()
        if getattr(args, dest) is not None
    }
    return Config.from_dict(flags, base=config)


def dataset_from_args(args: argparse.Namespace, config: Config, cv: bool = True) -> EEGDataset:
    """Load --x/--y/--groups (or the demo data) and check it suits the config: its model
    size, and the cross-validation's folds (``cv``) or else one fit on every window."""
    if (args.x is None) != (args.y is None):
        raise DataError("--x and --y must be given together (or neither, for the demo data).")
    if args.x is None:
        if args.groups is not None:
            raise DataError("--groups needs --x and --y.")
        dataset = make_demo_dataset(seed=0)
    else:
        dataset = load_dataset(args.x, args.y, args.groups)
    shortest = min_n_times(config.temporal_kernel, config.pool_size)
    if cv:
        check_for_cv(dataset, config.folds, shortest)
        check_k_set_fits(config, dataset)
    else:
        check_window_length(dataset, shortest)
        check_labels_fit_k(config, dataset.y, "all windows")
    source = dataset.x_name or dataset.source
    check_model_size(config, dataset.n_channels, dataset.n_times, source)
    return dataset


def check_not_an_input(out: Path, *inputs: Path | None) -> None:
    """Refuse an output file that is one of the command's input files: writing it would
    destroy the input (X is even read, memory-mapped, while the output is written)."""
    for source in inputs:
        if source is not None and out.exists() and source.exists() and out.samefile(source):
            raise UserError(
                f"{out}: expected an output path apart from the inputs, got the same file as "
                f"{source}; writing it would destroy that input."
            )


REPORT_COLUMNS = ("mae", "rmse", "r2", "balanced_mae", "few_mae", "subject_mae", "subject_r2")


def print_report(result: CVResult) -> None:
    """Per-fold table and mean ± std over folds, with every warning."""
    if result.folds:
        names = [name for name in REPORT_COLUMNS if name in result.folds[0].metrics]
        head = "  ".join(f"{n:>12}" for n in names)
        print(f"{'fold':>4}  {head}  {'epoch':>5}  {'s':>6}")
        for fold in result.folds:
            cells = "  ".join(f"{fold.metrics[n]:12.3f}" for n in names)
            print(f"{fold.fold + 1:>4}  {cells}  {fold.selected_epoch:>5}  {fold.seconds:6.1f}")
        summary = result.summary
        cells = "  ".join(f"{summary[n]:6.3f}±{summary[std_key(n)]:<5.3f}" for n in names)
        print(f"{'mean':>4}  {cells}")
        config = result.config
        print(
            f"fold-averaged MAE {summary['mae']:.3f} ± {summary[std_key('mae')]:.3f} over "
            f"{len(result.folds)} folds (lr {config['lr']:g}, boundaries "
            f"{config['boundaries']}, k {format_k(config['k'])}, lambda {config['lambda']:g}, "
            f"selection '{config['selection']}')"
        )
    if result.status != Status.COMPLETE:
        print(f"status: {result.status}: {result.message}")
    for warning in result.warnings:
        print(f"warning: {warning}")


def baseline_line(result: CVResult, mean: CVResult) -> str:
    """The config against predicting each fold's training mean, on the same folds."""
    ours, theirs = result.summary, mean.summary
    key = "subject_mae" if "subject_mae" in ours else "mae"
    folds = len(result.folds)
    wins = sum(
        fold.metrics[key] < base.metrics[key]
        for fold, base in zip(result.folds, mean.folds[:folds], strict=True)
    )
    values = (
        f"{key} {ours[key]:.3f} vs {theirs[key]:.3f} for predicting each fold's training mean, "
        f"better on {wins} of {folds} folds"
    )
    if ours[key] >= theirs[key]:
        return f"WARNING: NO BETTER than predicting the training mean ({values})."
    return f"against the mean predictor on the same folds: {values}."


def write_outputs(result: CVResult, dataset: EEGDataset, out: Path, mean: CVResult) -> None:
    """metrics.json (with the mean predictor's on the same folds) and predictions.csv (one
    row per window, its out-of-fold prediction)."""
    out.mkdir(parents=True, exist_ok=True)
    # a metric with no sample (e.g. no few-shot window) is NaN, written as null
    metrics = result.to_dict()
    metrics["baselines"] = {str(Role.MEAN_PREDICTOR): mean.report()}
    if dataset.meta is not None:
        metrics[DATA_META_KEY] = dataset.meta
    write_json_file(out / "metrics.json", metrics)
    with open(out / "predictions.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["index", "subject", "fold", "y_true", "y_pred"])
        rows = []
        for fold in result.folds:
            for index, prediction in zip(fold.test_index, fold.predictions, strict=True):
                subject = "" if dataset.groups is None else dataset.groups[index]
                rows.append((index, subject, fold.fold + 1, dataset.y[index], prediction))
        writer.writerows(sorted(rows))


def run_cv(config: Config, dataset: EEGDataset, device: str) -> CVResult:
    progress = ProgressBar(config)
    try:
        return cross_validate(config, dataset, callbacks=[progress], device=device)
    finally:
        progress.close()


def print_precision_note(config: Config, device: torch.device) -> None:
    """Say on stderr when the config's precision does not apply on ``device``."""
    note = precision_note(config, device)
    if note:
        print(f"note: {note}", file=sys.stderr)


def cmd_train(args: argparse.Namespace) -> int:
    if args.out is not None:
        check_output_path(args.out, "metrics.json and predictions.csv", folder=True)
        for name in ("metrics.json", "predictions.csv"):
            check_output_path(args.out / name, name)
    device = resolve_device(args.device)
    config = config_from_args(args)
    dataset = dataset_from_args(args, config)
    print_precision_note(config, device)
    setup = "" if dataset.meta is None else f" at {dataset.meta['sfreq']:g} Hz"
    print(
        f"data: {dataset.source}: {dataset.n_samples} windows, {dataset.n_channels} channels x "
        f"{dataset.n_times} samples{setup}; device {device}",
        file=sys.stderr,
    )
    result = run_cv(config, dataset, str(device))
    print_report(result)
    mean = constant_predictor_cv(config, dataset, Role.MEAN_PREDICTOR)
    if result.folds:
        print(baseline_line(result, mean))
    if args.out:
        write_outputs(result, dataset, args.out, mean)
        print(f"wrote {args.out / 'metrics.json'} and {args.out / 'predictions.csv'}")
    return 0 if result.status == Status.COMPLETE else DIVERGED_EXIT


def cmd_fit_final(args: argparse.Namespace) -> int:
    check_output_path(args.out, "the model file")
    check_not_an_input(args.out, args.x, args.y, args.groups, args.config)
    device = resolve_device(args.device)
    config = config_from_args(args)
    print_precision_note(config, device)
    epochs = args.final_epochs
    if epochs is not None and epochs < 1:
        raise ConfigError(f"final-epochs must be >= 1, got {epochs}.")
    dataset = dataset_from_args(args, config, cv=epochs is None)
    if epochs is None:
        print(
            "no --final-epochs: running the cross-validation to find the median selected epoch",
            file=sys.stderr,
        )
        result = run_cv(config, dataset, str(device))
        if result.status != Status.COMPLETE:
            print(
                f"cross-validation diverged: {result.message}; no model written.", file=sys.stderr
            )
            return DIVERGED_EXIT
        epochs = max(1, int(round(result.summary["median_selected_epoch"])))
    print(f"training on all {dataset.n_samples} windows for {epochs} epochs", file=sys.stderr)
    everything = np.arange(dataset.n_samples)
    outcome = fit_model(config, dataset, everything, None, device, config.seed, epochs=epochs)
    if outcome.status != Status.COMPLETE:
        print(f"training diverged: {outcome.message}; no model written.", file=sys.stderr)
        return DIVERGED_EXIT
    save_model_file(args.out, outcome, config, epochs, dataset.meta)
    print(f"wrote {args.out} ({epochs} epochs)")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    check_output_path(args.out, "the predictions CSV")
    check_not_an_input(args.out, args.model, args.x)
    device = resolve_device(args.device)
    saved = load_model_file(args.model)
    if (saved.meta is None) != (not meta_path(args.x).exists()):
        print(
            f"note: {'the model' if saved.meta is None else args.x} has no {META_FILE} record: "
            "sampling rate and channel names are not checked, only the window shape",
            file=sys.stderr,
        )
    predictions = predict_windows(saved, args.x, device)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["index", "y_pred"])
        writer.writerows(enumerate(predictions.tolist()))
    print(f"wrote {len(predictions)} predictions to {args.out}")
    return 0


COMMANDS = {"train": cmd_train, "fit-final": cmd_fit_final, "predict": cmd_predict}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "prepare":  # reads recordings with MNE: no torch runtime to set up
        return run_prepare(args, argv)
    configure_runtime()
    return run_command(lambda: COMMANDS[args.command](args))


if __name__ == "__main__":
    raise SystemExit(main())
