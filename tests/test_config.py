"""Hyperparameter declaration, parsing and validation."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, dataclass
from typing import Literal

import pytest

from mlviz import Config, ConfigError, param
from mlviz.config import parse_settings


@dataclass(frozen=True)
class ToyConfig(Config):
    lr: float = param(0.1, "learning rate", min=1e-6, max=10)
    epochs: int = param(100, "number of epochs", min=1)
    standardize: bool = param(True, "standardize features")
    init: Literal["zeros", "random"] = param("zeros", "initial weights")
    layers: tuple[int, ...] = param((2, 8, 1), "layer widths", min=1)

    def validate(self) -> None:
        if self.layers[0] != 2:
            raise ConfigError("layers must start with 2 inputs")


def test_defaults_and_params_describe_every_field():
    config = ToyConfig()
    assert (config.lr, config.epochs, config.seed) == (0.1, 100, 0)
    infos = {p.name: p for p in ToyConfig.params()}
    assert list(infos) == ["seed", "lr", "epochs", "standardize", "init", "layers"]
    assert infos["lr"].type_name == "float" and infos["lr"].help == "learning rate"
    assert infos["init"].choices == ("zeros", "random")
    assert infos["layers"].type_name == "int,..."


def test_strings_are_parsed_to_the_declared_types():
    config = ToyConfig.from_overrides(
        parse_settings(["lr=0.5", "epochs=20", "standardize=false", "init=random", "layers=2,4,4,1"])
    )
    assert config.lr == 0.5 and isinstance(config.lr, float)
    assert config.epochs == 20 and isinstance(config.epochs, int)
    assert config.standardize is False
    assert config.init == "random"
    assert config.layers == (2, 4, 4, 1)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"lr": "fast"}, "lr expects a number"),
        ({"lr": "nan"}, "finite"),
        ({"lr": "100"}, "out of range"),
        ({"epochs": "0"}, "out of range"),
        ({"epochs": "2.5"}, "expects an integer"),
        ({"epochs": True}, "expects an integer"),
        ({"standardize": "maybe"}, "true or false"),
        ({"init": "ones"}, "choose one of: zeros, random"),
        ({"layers": "2,0,1"}, "out of range"),
        ({"layers": "3,4,1"}, "must start with 2"),
    ],
)
def test_bad_values_raise_config_errors(settings, message):
    with pytest.raises(ConfigError, match=message):
        ToyConfig.from_overrides(settings)


def test_unknown_key_lists_valid_keys_and_suggests():
    with pytest.raises(ConfigError) as info:
        ToyConfig.from_overrides({"epoch": "3"})
    text = str(info.value)
    assert "did you mean 'epochs'" in text
    assert "valid keys: seed, lr, epochs, standardize, init, layers" in text


def test_configs_are_frozen_and_replace_validates():
    config = ToyConfig()
    with pytest.raises(FrozenInstanceError):
        config.lr = 1.0
    assert config.replace(lr=0.2).lr == 0.2
    with pytest.raises(ConfigError):
        config.replace(lr=-1.0)


@pytest.mark.parametrize("pair", ["lr", "=3", ""])
def test_malformed_settings(pair):
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        parse_settings([pair])


def test_one_formatter_of_a_hyperparameter_value():
    from mlviz.config import show_value

    assert [show_value(v) for v in (0.1, 2.0, 0.0, 1e-05, True, (2, 12, 1), "tanh", 7)] == [
        "0.1", "2", "0", "1e-05", "true", "2,12,1", "tanh", "7"]
    assert show_value(0.123456789) == "0.123456789"  # never rounded: --set reads it back
    assert float(show_value(123456789.5)) == 123456789.5


def test_one_frame_budget_check():
    from mlviz import MlvizError
    from mlviz.limits import check_frames

    assert check_frames(None) is None and check_frames(3) == 3
    for bad in (0, -2):
        with pytest.raises(MlvizError, match=f"--frames must be at least 1, got {bad}"):
            check_frames(bad)
