"""The config: its defaults, read from the schema, and the checks across keys.

The JSON schema (``workflow/schemas/config.schema.yaml``) is the one place of
every key, its type and its default; Snakemake's ``validate`` fills the
defaults. What a schema cannot say (a key naming entries of another, settings
that must agree) is checked here, when the Snakefile is parsed, before any job.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path

import yaml

from painflow.analyses.metrics import RUN_SCALES
from painflow.atlas.configured import check_atlas_config
from painflow.inputs.dataset import check_space_entities
from painflow.workflow.packaged import workflow_root

# The workflow's schema, beside the Snakefile that validates configs with it.
SCHEMA = workflow_root() / "workflow/schemas/config.schema.yaml"
# Scales every analysis knows besides the time-bin scales of features.time_bins.
BUILT_IN_SCALES = tuple(RUN_SCALES)


@cache
def _read_schema(path: Path) -> dict:
    """The parsed schema (cached; callers get copies of its parts)."""
    return yaml.safe_load(Path(path).read_text())


def read_schema(path: str | Path = SCHEMA) -> dict:
    """Read the config schema.

    Parameters
    ----------
    path : str or Path
        The schema file; the repository's by default.

    Returns
    -------
    dict
        A copy the caller may change.
    """
    return copy.deepcopy(_read_schema(Path(path)))


def schema_defaults(schema: dict) -> dict:
    """The values ``validate(..., set_default=True)`` gives an object left empty.

    A property with a default gets it; a default that is an object gets the
    defaults of its own properties in turn. Properties without a default (the
    required keys) are absent, with everything inside them.

    Parameters
    ----------
    schema : dict
        The schema of an object (``properties``).

    Returns
    -------
    dict
        Key to default, in the schema's order.
    """
    defaults = {}
    for key, subschema in schema.get("properties", {}).items():
        if "default" not in subschema:
            continue
        value = copy.deepcopy(subschema["default"])
        if isinstance(value, dict):
            for nested_key, nested in schema_defaults(subschema).items():
                value.setdefault(nested_key, nested)
        defaults[key] = value
    return defaults


def default_config(schema_path: str | Path = SCHEMA) -> dict:
    """Every default the schema declares, nested ones included.

    The keys a config must give (``bids_dir``, ``fmriprep_dir``,
    ``output_dir``, ``atlas``) have no default and are absent.
    """
    return schema_defaults(read_schema(schema_path))


def missing_keys(config: dict, schema: dict, prefix: str = "") -> list[str]:
    """Dotted names of the required keys a config lacks, nested ones included."""
    missing = [prefix + key for key in schema.get("required", []) if key not in config]
    for key, subschema in schema.get("properties", {}).items():
        if isinstance(config.get(key), dict):
            missing += missing_keys(config[key], subschema, f"{prefix}{key}.")
    return missing


def check_required(config: dict, schema_path: str | Path = SCHEMA) -> None:
    """Raise when the config lacks keys without a default, naming every one.

    Raises
    ------
    ValueError
        Listing the missing keys, e.g. when Snakemake runs without
        ``--configfile``.
    """
    missing = missing_keys(config, read_schema(schema_path))
    if missing:
        raise ValueError(
            f"config: missing required key(s) {', '.join(missing)}; copy "
            "config/config.yaml, set them and pass it with --configfile"
        )


def check_config(config: dict) -> None:
    """Raise before any job when keys of a validated config disagree.

    Parameters
    ----------
    config : dict
        The config, validated against the schema (defaults filled).

    Raises
    ------
    ValueError
        Naming the keys: space entities that do not fit together, an atlas
        that cannot fit the data, scales that do not exist, a band-pass filter
        whose high-pass cut-off is not below its low-pass cut-off.
    """
    check_space_entities(config["space"], config["res"], config["den"])
    check_atlas_config(config["atlas"], config["den"], config["space"])
    check_scales(config)
    check_band_pass(config["denoise"])


def check_scales(config: dict) -> None:
    """Check the scales named by evaluation and importance against the time bins.

    Raises
    ------
    ValueError
        When a time-bin scale takes the name of a built-in scale (``run``,
        ``session``), ``evaluation.scales`` names a scale that is neither, or
        ``importance.scale`` or ``predict.scale`` is not a time-bin scale.
    """
    time_bins = list(config["features"]["time_bins"])
    known = f"the keys of features.time_bins ({', '.join(time_bins)})"
    clashing = [scale for scale in time_bins if scale in BUILT_IN_SCALES]
    if clashing:
        raise ValueError(
            f"features.time_bins names {', '.join(clashing)}, a built-in scale "
            f"({', '.join(BUILT_IN_SCALES)}); give its time bins another name"
        )
    unknown = [
        scale
        for scale in config["evaluation"]["scales"]
        if scale not in time_bins and scale not in BUILT_IN_SCALES
    ]
    if unknown:
        raise ValueError(
            f"evaluation.scales names {', '.join(unknown)}, which is neither one of "
            f"{known} nor a built-in scale ({', '.join(BUILT_IN_SCALES)})"
        )
    for key in ("importance", "predict"):
        scale = config[key]["scale"]
        if scale not in time_bins:
            raise ValueError(
                f"{key}.scale is {scale!r}; it must be a time-bin scale, one of {known}"
            )


def check_band_pass(denoise: dict) -> None:
    """Check that a band-pass filter's high-pass cut-off is below its low-pass one.

    Raises
    ------
    ValueError
        Naming ``denoise.high_pass_hz`` and ``denoise.low_pass_hz``.
    """
    high, low = denoise["high_pass_hz"], denoise["low_pass_hz"]
    if high is not None and low is not None and high >= low:
        raise ValueError(
            f"denoise.high_pass_hz ({high}) must be below denoise.low_pass_hz "
            f"({low}): together they keep the frequencies between them"
        )
