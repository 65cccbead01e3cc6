"""Clock policies as data: which statutory periods a case runs under, and what follows.

A policy is a YAML file. The bundled ones live in ``dispatcher/policies/``: ``cn-2022``
(信访工作条例 2022) and ``hotline-12345``, an example 12345-hotline policy modelled on
北京市接诉即办工作条例. Files are validated when loaded; an error names the file and the field.
Rules choose a policy per case.

Packaging note: the YAML files sit in a data folder beside this module, not in a package; a
non-editable install (the Docker image) ships them only if pyproject's package-data lists
``dispatcher: ["policies/*.yaml"]``.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from dispatcher.domain.clocks import CLOCK_NAMES, ClockSpec, Unit
from dispatcher.domain.policy import (
    ClockName,
    Extension,
    OnDissatisfied,
    Policy,
    PolicyError,
)

POLICY_DIR = Path(str(resources.files("dispatcher") / "policies"))  # a data folder


# -- the file format ---------------------------------------------------------------------


class _ExtensionModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    max_days: int = Field(ge=1)
    times: int = Field(ge=1)
    approver: str = Field(min_length=1)


class _ClockModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    days: int = Field(ge=1)
    unit: Literal["calendar_days", "working_days"]
    article: str = Field(min_length=1)
    basis: str = Field(min_length=1)
    pausable: bool = False
    extension: _ExtensionModel | None = None


class _PolicyModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    id: str = Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str = Field(min_length=1)
    source: str = ""
    on_dissatisfied: OnDissatisfied
    final_after: ClockName | None = None
    clocks: dict[ClockName, _ClockModel] = Field(min_length=1)

    @model_validator(mode="after")
    def _references_exist(self) -> _PolicyModel:
        if self.final_after is not None and self.final_after not in self.clocks:
            raise ValueError(f"final_after names clock {self.final_after!r}, not in clocks")
        if self.on_dissatisfied == "review_window" and "review_request" not in self.clocks:
            raise ValueError("on_dissatisfied: review_window needs a review_request clock")
        if self.on_dissatisfied == "rehandle" and "handling" not in self.clocks:
            raise ValueError("on_dissatisfied: rehandle needs a handling clock")
        return self


def _to_policy(model: _PolicyModel) -> Policy:
    ordered = sorted(model.clocks.items(), key=lambda item: CLOCK_NAMES.index(item[0]))
    clocks: dict[str, ClockSpec] = {
        name: ClockSpec(name, c.days, Unit(c.unit), c.article, c.basis, c.pausable)
        for name, c in ordered
    }
    extensions: dict[str, Extension] = {
        name: Extension(c.extension.max_days, c.extension.times, c.extension.approver)
        for name, c in ordered
        if c.extension is not None
    }
    return Policy(
        model.id,
        model.title,
        MappingProxyType(clocks),
        MappingProxyType(extensions),
        model.on_dissatisfied,
        model.final_after,
        model.source,
    )


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "policy"
    return f"{field}: {first['msg'].removeprefix('Value error, ')}"


def parse_policy(raw: Any, *, origin: str) -> Policy:
    """Validate parsed YAML; ``origin`` (a file name) goes into every error message."""
    try:
        return _to_policy(_PolicyModel.model_validate(raw))
    except ValidationError as error:
        raise PolicyError(f"{origin}: {_describe(error)}") from None


def _read(path: Path) -> Policy:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise PolicyError(f"{path}: cannot read policy: {error}") from None
    return parse_policy(raw, origin=str(path))


def available_policies() -> list[str]:
    """The ids of the bundled policies."""
    return sorted(path.stem for path in POLICY_DIR.glob("*.yaml"))


@cache
def _bundled(policy_id: str) -> Policy:
    if policy_id not in available_policies():
        raise PolicyError(
            f"unknown policy {policy_id!r}; available: {', '.join(available_policies())}"
        )
    policy = _read(POLICY_DIR / f"{policy_id}.yaml")
    if policy.id != policy_id:
        raise PolicyError(
            f"{POLICY_DIR / policy_id}.yaml: id: {policy.id!r} differs from the file name"
        )
    return policy


def load_policy(id_or_path: str | Path) -> Policy:
    """A bundled policy by id (``cn-2022``) or a policy file by path (``*.yaml``, or a Path)."""
    text = str(id_or_path)
    if isinstance(id_or_path, Path) or text.endswith((".yaml", ".yml")) or "/" in text:
        return _read(Path(id_or_path))
    return _bundled(text)
