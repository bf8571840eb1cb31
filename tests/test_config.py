"""Config: published defaults, files in three formats, strict keys and ranges."""

import json

import pytest

from centerir.config import Config, ConfigError, format_k, load_config, parse_k, read_mapping


def test_defaults_are_the_published_values():
    config = Config()
    assert (config.batch_size, config.lr, config.epochs, config.boundaries) == (32, 1e-4, 100, 16)
    assert config.k == (1, 3, 5, 15) and config["lambda"] == 5e-8
    assert (config.folds, config.seed, config.remainder) == (10, 42, "group")


@pytest.mark.parametrize("text", ["1-3-5-15", "1,3,5,15", [1, 3, 5, 15], [1.0, 3, 5, 15]])
def test_k_forms(text):
    assert parse_k(text) == (1, 3, 5, 15)
    assert format_k(parse_k(text)) == "1-3-5-15"


def test_round_trip_through_every_file_format(tmp_path):
    config = Config(lr=3e-4, k=(1, 2), lambda_=1e-7, boundaries=12)
    values = config.to_dict()
    (tmp_path / "c.json").write_text(json.dumps(values))
    toml_lines = [f"{key} = {json.dumps(value)}" for key, value in values.items()]
    (tmp_path / "c.toml").write_text("\n".join(toml_lines))
    yaml_lines = [f"{key}: {json.dumps(value)}" for key, value in values.items()]
    (tmp_path / "c.yaml").write_text("\n".join(yaml_lines))
    for name in ("c.json", "c.toml", "c.yaml"):
        assert load_config(tmp_path / name) == config


def test_unknown_key_lists_the_valid_ones():
    with pytest.raises(
        ConfigError, match=r"unknown config key\(s\) 'learning_rate'; valid keys: lr, "
    ):
        Config.from_dict({"learning_rate": 0.1})


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"lr": -1.0}, r"lr must be > 0, got lr=-1.0"),
        ({"boundaries": 0}, r"boundaries must be >= 1, got boundaries=0"),
        ({"k": "0"}, r"every k must be an int >= 1"),
        ({"k": []}, r"empty k set"),
        ({"k": "a-b"}, r"k must be group sizes like"),
        ({"folds": 1}, r"folds must be >= 2"),
        ({"selection": "best"}, r"selection must be one of"),
        ({"epochs": 2.5}, r"epochs must be an integer"),
        ({"lr": "fast"}, r"lr must be a number"),
        ({"dropout": 1.0}, r"dropout must be in \[0, 1\)"),
    ],
)
def test_bad_values_are_one_line_errors(values, message):
    with pytest.raises(ConfigError, match=message) as info:
        Config.from_dict(values)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("c.toml", "lr = = 1", r"c.toml: not valid TOML"),
        ("c.json", "{", r"c.json: not valid JSON"),
        ("c.yaml", "- 1\n- 2", r"c.yaml: expected a table of config keys, got list"),
        ("c.ini", "lr=1", r"expected a .json, .toml, .yaml or .yml config file"),
        ("c.json", '{"lr": -1}', r"c.json: lr must be > 0"),
    ],
)
def test_bad_files_name_the_file(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.json")


def test_yaml_is_loaded_safely(tmp_path):
    path = tmp_path / "evil.yaml"
    path.write_text("lr: !!python/object/apply:os.system ['echo hacked']\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(path)


@pytest.mark.parametrize("suffix", [".json", ".toml", ".yaml"])
def test_a_config_nested_too_deep_is_one_line(tmp_path, suffix):
    path = tmp_path / f"deep{suffix}"
    path.write_text("a = " + "[" * 5000 + "]" * 5000 if suffix == ".toml" else "[" * 100_000)
    with pytest.raises(ConfigError, match="nested too deep|not valid"):
        read_mapping(path)
