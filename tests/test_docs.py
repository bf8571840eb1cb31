"""The docs and the command lines agree: every option the README and docs/ show exists in
its command's ``--help``, and every option of every command is documented."""

import argparse
import re
from pathlib import Path

import pytest

from centerir.cli import build_parser as centerir_parser
from results.cli import build_parser as results_parser
from tune_study.launch import build_parser as launch_parser

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
# Options of other programs that the docs show in prose or examples (ray, pip, ssh, ...).
OTHER_PROGRAMS = {
    "--head", "--address", "--port", "--num-cpus", "--num-gpus", "--node-ip-address",
    "--dashboard-host", "--dashboard-port", "--include-dashboard", "--object-store-memory",
    "--dashboard-agent-listen-port", "--metadata-json", "--working-dir", "--no-deps",
    "--headless", "--no-sandbox", "--port-retries", "--host", "--force", "--runtime-env-json",
    "--generate",
}  # fmt: skip


def options(parser: argparse.ArgumentParser) -> set[str]:
    """The long options of ``parser`` (no ``--help``)."""
    return {
        option
        for action in parser._actions  # argparse keeps no public list of its options
        for option in action.option_strings
        if option.startswith("--") and option != "--help"
    }


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(commands.choices)


COMMANDS = {
    **{
        f"python -m centerir {name}": options(sub)
        for name, sub in subcommands(centerir_parser()).items()
    },
    "python -m tune_study.launch": options(launch_parser()),
    "python -m results": options(results_parser()),
}
BENCHMARKS = {  # the benchmark scripts' options, read from their argparse calls
    f"python benchmarks/{script.name}": set(
        re.findall(r"add_argument\(\s*\"(--[a-z][a-z0-9-]*)\"", script.read_text())
    )
    for script in sorted((ROOT / "benchmarks").glob("*.py"))
}
COMMANDS.update(BENCHMARKS)
ALL_OPTIONS = set().union(*COMMANDS.values()) | {"--help"}


def command_lines(text: str) -> list[str]:
    """The lines of fenced code blocks, with backslash continuations joined."""
    blocks = re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S)
    return [line for block in blocks for line in block.replace("\\\n", " ").splitlines()]


def documented_text() -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in DOCS)


@pytest.mark.parametrize("path", DOCS, ids=lambda path: path.name)
def test_every_option_shown_exists_in_its_commands_help(path):
    text = path.read_text(encoding="utf-8")
    for line in command_lines(text):
        command = next((c for c in COMMANDS if line.lstrip().startswith(c)), None)
        if command is not None:
            unknown = set(FLAG.findall(line)) - COMMANDS[command]
            assert not unknown, f"{path.name}: {command} has no {sorted(unknown)}: {line}"
    unknown = set(FLAG.findall(text)) - ALL_OPTIONS - OTHER_PROGRAMS
    assert not unknown, f"{path.name} shows options no command has: {sorted(unknown)}"


@pytest.mark.parametrize("command", sorted(set(COMMANDS) - set(BENCHMARKS)))
def test_every_option_of_every_command_is_documented(command):
    shown = set(FLAG.findall(documented_text()))
    missing = COMMANDS[command] - shown
    assert not missing, f"{command}: undocumented options {sorted(missing)}"


def test_the_readme_is_short_and_links_every_docs_page():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 250
    for page in sorted((ROOT / "docs").glob("*.md")):
        assert f"(docs/{page.name})" in readme, f"README does not link docs/{page.name}"
