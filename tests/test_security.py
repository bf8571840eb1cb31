"""No user-supplied content is ever unpickled or evaluated: a scan of the source."""

import re
from pathlib import Path

import pytest
import yaml

from centerir.config import UniqueKeyLoader

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("centerir", "search_spaces", "tune_study", "results")
SOURCES = sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))

FORBIDDEN = {
    r"(?<![\w.])eval\(": "eval",
    r"(?<![\w.])exec\(": "exec",
    r"pickle\.loads?\(": "pickle.load",
    r"cloudpickle\.loads?\(": "cloudpickle.load",
    # yaml.load only with the project's SafeLoader subclass (see the test below)
    r"yaml\.(?:unsafe_)?load\((?!.*Loader=UniqueKeyLoader\))": "yaml.load without safe_load",
    r"allow_pickle\s*=\s*True": "allow_pickle=True",
    r"weights_only\s*=\s*False": "weights_only=False",
}


def code_lines(path):
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        stripped = line.split("#", 1)[0]
        if stripped.strip():
            yield number, stripped


def test_sources_were_found():
    assert len(SOURCES) > 20


@pytest.mark.parametrize("pattern", sorted(FORBIDDEN))
def test_no_unsafe_loading_or_evaluation(pattern):
    hits = [
        f"{p.relative_to(ROOT)}:{n}"
        for p in SOURCES
        for n, line in code_lines(p)
        if re.search(pattern, line)
    ]
    assert not hits, f"{FORBIDDEN[pattern]} found at {hits}"


def test_the_yaml_loader_used_is_a_safe_loader():
    assert issubclass(UniqueKeyLoader, yaml.SafeLoader)


def test_every_np_load_and_torch_load_is_safe():
    for path in SOURCES:
        for number, line in code_lines(path):
            if "np.load(" in line:
                assert "allow_pickle=False" in line, f"{path}:{number}"
            if "torch.load(" in line:
                assert "weights_only=True" in line, f"{path}:{number}"
