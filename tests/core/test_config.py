"""TOML loading and the pydantic helpers of ionto.core.config."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pytest
from pydantic import ValidationError

from ionto.core.config import (
    StrictModel,
    config_error,
    field_path,
    integer,
    load_toml,
    parse_toml,
    quantity,
)
from ionto.core.errors import ConfigError


class _Inner(StrictModel):
    thickness: Annotated[float, quantity("m", gt=0)]
    count: Annotated[int, integer(ge=1)] = 1


class _Outer(StrictModel):
    layers: list[_Inner]


def _error(data: object) -> ConfigError:
    with pytest.raises(ValidationError) as info:
        _Outer.model_validate(data)
    return config_error(info.value)


def test_quantity_converts() -> None:
    model = _Outer.model_validate({"layers": [{"thickness": "20 um"}]})
    assert model.layers[0].thickness == 2e-05


def test_bound_violation_message() -> None:
    err = _error({"layers": [{"thickness": "1 mm"}, {"thickness": "-20 um"}]})
    assert str(err) == "layers[1].thickness: -20 um is not allowed (unit: m; allowed: > 0)"


def test_unknown_key_suggests() -> None:
    err = _error({"layers": [{"thicknes": "1 mm"}]})
    assert err.field == "layers[0].thicknes"
    assert "did you mean 'thickness'" in str(err)


def test_missing_key() -> None:
    err = _error({"layers": [{}]})
    assert str(err).startswith("layers[0].thickness: is required")


@pytest.mark.parametrize("count", [0, 1.5, "2", True])
def test_integer(count: object) -> None:
    err = _error({"layers": [{"thickness": "1 mm", "count": count}]})
    assert err.field == "layers[0].count"


def test_several_errors_counted() -> None:
    err = _error({"layers": [{"thickness": "-1 mm"}, {"thickness": "0 mm"}]})
    assert "[+1 more problem(s)]" in str(err)
    assert len(err.others) == 2


def test_field_path() -> None:
    assert field_path(["layers", 1, "initial", "Lid+"]) == 'layers[1].initial["Lid+"]'
    assert field_path(["thickness"], "layers[0]") == "layers[0].thickness"


def test_load_toml_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty.toml"
    empty.write_text("   \n")
    with pytest.raises(ConfigError, match="empty"):
        load_toml(empty)
    binary = tmp_path / "garbage.toml"
    binary.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(ConfigError, match="binary"):
        load_toml(binary)
    latin = tmp_path / "latin.toml"
    latin.write_bytes('title = "caf\xe9"\n'.encode("latin-1"))
    with pytest.raises(ConfigError, match="UTF-8"):
        load_toml(latin)
    with pytest.raises(ConfigError, match="not found"):
        load_toml(tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match="directory"):
        load_toml(tmp_path)


def test_parse_toml_syntax_error_names_line() -> None:
    with pytest.raises(ConfigError) as info:
        parse_toml('title = "x"\n\nthickness = 20 um\n', "s.toml")
    assert "line 3" in str(info.value)
    assert str(info.value).startswith("s.toml: TOML syntax error")


def test_comments_only_is_empty() -> None:
    with pytest.raises(ConfigError, match="empty"):
        parse_toml("# nothing here\n")
