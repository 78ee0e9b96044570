"""The config: defaults from the schema alone, the example, parse-time checks."""

import copy
import dataclasses
from pathlib import Path

import pytest
import yaml
from snakemake.utils import validate

from painflow.analyses.glm import GlmSettings
from painflow.analyses.prospective import ProspectiveDesign
from painflow.inputs.dataset import DatasetSpec
from painflow.inputs.fmriprep import FmriprepSettings
from painflow.signals.confounds import DenoiseSettings
from painflow.signals.edges import FeatureSettings
from painflow.signals.extract import AlignmentSettings
from painflow.simulation.artifacts import STUDY_FD_LOW_PASS_HZ, STUDY_FD_THRESHOLD_MM
from painflow.workflow.config import (
    SCHEMA,
    check_config,
    check_required,
    default_config,
    read_schema,
)

REPO = Path(__file__).resolve().parents[1]
MINIMAL = {
    "bids_dir": "data/bids",
    "fmriprep_dir": "data/bids/derivatives/fmriprep",
    "output_dir": "results",
    "atlas": {"name": "AAL", "image": None, "labels": None},
}
# The keys of config/config.yaml that are examples rather than defaults.
EXAMPLE_ONLY = ("bids_dir", "fmriprep_dir", "output_dir", "atlas.name")
EXAMPLE_ONLY += ("atlas.image", "atlas.labels")


def validated(config: dict) -> dict:
    """A copy of the config as the Snakefile sees it: validated, defaults filled."""
    config = copy.deepcopy(config)
    validate(config, str(SCHEMA))
    return config


def declared_defaults(schema: dict, prefix: tuple = ()):
    """Every (key path, default) of the schema, nested ones included."""
    for key, subschema in schema.get("properties", {}).items():
        if "default" in subschema:
            yield (*prefix, key), subschema["default"]
        yield from declared_defaults(subschema, (*prefix, key))


def lookup(config: dict, path: tuple):
    for key in path:
        config = config[key]
    return config


def leaves(config: dict, prefix: tuple = ()):
    """Every (key path, value) of a config whose value is not a section."""
    for key, value in config.items():
        if isinstance(value, dict) and key != "time_bins":
            yield from leaves(value, (*prefix, key))
        else:
            yield (*prefix, key), value


def a_config(**sections) -> dict:
    """A valid config with the defaults, some sections' keys replaced."""
    config = validated(MINIMAL)
    for section, values in sections.items():
        if isinstance(config.get(section), dict):
            config[section].update(values)
        else:
            config[section] = values
    return config


# Defaults: the schema is their only source.


def test_a_minimal_config_gets_every_default_the_schema_declares():
    config = validated(MINIMAL)
    declared = dict(declared_defaults(read_schema()))
    assert ("denoise", "spike_fd_mm") in declared
    assert ("atlas", "subcortex") in declared
    assert ("fmriprep", "engine") in declared
    for path, default in declared.items():
        if isinstance(default, dict):  # a section: its own defaults are checked too
            assert default.items() <= lookup(config, path).items(), path
        else:
            assert lookup(config, path) == default, path
    assert config["conda_env"] == "painflow"


def test_default_config_is_what_validation_fills_in():
    config = validated(MINIMAL)
    filled = {key: value for key, value in config.items() if key not in MINIMAL}
    assert default_config() == filled
    assert "atlas" not in default_config() and "bids_dir" not in default_config()


def test_default_config_is_a_fresh_copy():
    changed = default_config()
    changed["denoise"]["n_compcor"] = 0
    assert default_config()["denoise"]["n_compcor"] == 5


def test_the_example_config_validates_and_shows_every_default():
    example = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config = validated(example)
    assert config == example  # every key is in the example: nothing was filled
    defaults = dict(declared_defaults(read_schema()))
    for path, value in leaves(example):
        if ".".join(path) in EXAMPLE_ONLY:
            continue
        assert path in defaults, path
        assert value == defaults[path] and type(value) is type(defaults[path]), path
    check_config(config)


@pytest.mark.parametrize("name", ["demo.yaml", "demo_fslr.yaml"])
def test_the_demo_configs_validate_and_pass_the_checks(name):
    config = validated(yaml.safe_load((REPO / "config" / name).read_text()))
    check_config(config)


def test_the_simulations_fd_rule_is_the_studys():
    denoise = default_config()["denoise"]
    assert STUDY_FD_LOW_PASS_HZ == denoise["fd_low_pass_hz"]
    assert STUDY_FD_THRESHOLD_MM == denoise["fd_threshold_mm"]


# Settings built from the config take every value from it.


@pytest.mark.parametrize(
    ("settings", "section"),
    [
        (DenoiseSettings, "denoise"),
        (AlignmentSettings, "alignment"),
        (FeatureSettings, "features"),
        (ProspectiveDesign, "prospective"),
        (GlmSettings, "glm"),
    ],
)
def test_settings_have_no_defaults_and_read_their_whole_section(settings, section):
    fields = dataclasses.fields(settings)
    assert all(field.default is dataclasses.MISSING for field in fields)
    assert all(field.default_factory is dataclasses.MISSING for field in fields)
    assert [field.name for field in fields] == list(default_config()[section])
    built = settings(**default_config()[section])
    assert dataclasses.asdict(built) == default_config()[section]


def test_fmriprep_settings_have_no_defaults():
    fields = dataclasses.fields(FmriprepSettings)
    assert all(field.default is dataclasses.MISSING for field in fields)
    assert all(field.default_factory is dataclasses.MISSING for field in fields)


def test_the_dataset_spec_reads_the_config():
    config = a_config(
        subjects=["01", 2], task="pain", ratings={"recording": "slider"}, res="6"
    )
    spec = DatasetSpec.from_config(config, "elsewhere")
    assert spec.bids_dir == Path("data/bids") and spec.fmriprep_dir == Path("elsewhere")
    assert (spec.task, spec.space, spec.res, spec.den) == (
        "pain",
        "MNI152NLin6Asym",
        "6",
        None,
    )
    assert spec.recording == "slider" and spec.subjects == ("01", "2")
    assert spec.check_derivatives
    config["fmriprep_dir"] = None  # painflow runs fMRIPrep: nothing to check yet
    assert not DatasetSpec.from_config(config, "results/fmriprep").check_derivatives


# Missing keys.


def test_a_config_without_the_required_keys_names_every_one():
    with pytest.raises(ValueError) as error:
        check_required({})
    for key in ("bids_dir", "fmriprep_dir", "output_dir", "atlas"):
        assert key in str(error.value)
    assert "--configfile" in str(error.value)


def test_a_missing_nested_key_is_named_with_its_section():
    config = copy.deepcopy(MINIMAL)
    del config["atlas"]["labels"]
    with pytest.raises(ValueError, match=r"missing required key\(s\) atlas\.labels;"):
        check_required(config)
    check_required(MINIMAL)


# Checks across keys.


def test_the_default_config_passes_every_check():
    check_config(a_config())


@pytest.mark.parametrize("scale", ["1min", "2min", "5min", "run", "session"])
def test_evaluation_scales_may_be_time_bins_or_built_in(scale):
    check_config(a_config(evaluation={"scales": [scale]}))


def test_an_unknown_evaluation_scale_is_named():
    config = a_config(evaluation={"scales": ["1min", "3min", "run", "day"]})
    with pytest.raises(ValueError, match="evaluation.scales names 3min, day") as error:
        check_config(config)
    assert "features.time_bins (1min, 2min, 5min)" in str(error.value)


def test_an_evaluation_scale_of_time_bins_that_are_not_configured_is_rejected():
    config = a_config(features={"time_bins": {"30s": 30}})
    with pytest.raises(ValueError, match="evaluation.scales names 1min, 2min"):
        check_config(config)
    config["evaluation"]["scales"] = ["30s", "run"]
    config["importance"]["scale"] = "30s"
    config["predict"]["scale"] = "30s"
    check_config(config)


@pytest.mark.parametrize("key", ["importance", "predict"])
@pytest.mark.parametrize("scale", ["run", "session", "10min"])
def test_importance_and_predict_scales_must_be_time_bin_scales(key, scale):
    with pytest.raises(ValueError, match=f"{key}.scale is '{scale}'") as error:
        check_config(a_config(**{key: {"scale": scale}}))
    assert "features.time_bins (1min, 2min, 5min)" in str(error.value)


def test_a_time_bin_scale_may_not_take_a_built_in_name():
    config = a_config(features={"time_bins": {"1min": 60, "run": 120}})
    with pytest.raises(ValueError, match="features.time_bins names run"):
        check_config(config)


def test_time_bins_and_scales_may_not_be_empty():
    with pytest.raises(Exception, match="time_bins"):
        validated({**MINIMAL, "features": {"time_bins": {}}})
    with pytest.raises(Exception, match="scales"):
        validated({**MINIMAL, "evaluation": {"scales": []}})


@pytest.mark.parametrize(("high", "low"), [(0.1, 0.1), (0.2, 0.1)])
def test_a_high_pass_at_or_above_the_low_pass_is_rejected(high, low):
    config = a_config(denoise={"high_pass_hz": high, "low_pass_hz": low})
    with pytest.raises(ValueError, match="denoise.high_pass_hz .* denoise.low_pass_hz"):
        check_config(config)


@pytest.mark.parametrize(("high", "low"), [(0.01, 0.1), (None, 0.1), (0.01, None)])
def test_a_band_pass_or_one_cut_off_is_accepted(high, low):
    check_config(a_config(denoise={"high_pass_hz": high, "low_pass_hz": low}))


GRAYORDINATE_ATLAS = {"name": "Glasser", "image": None, "labels": None}


def test_grayordinates_in_fslr_without_res_pass():
    config = a_config(space="fsLR", res=None, den="91k", atlas=GRAYORDINATE_ATLAS)
    check_config(config)


@pytest.mark.parametrize(
    ("entities", "message"),
    [
        ({"space": "fsLR", "res": "2", "den": "91k"}, "'res' is '2'"),
        ({"space": "MNI152NLin6Asym", "res": None, "den": "91k"}, "but 'space' is"),
        ({"space": "fsLR", "res": None, "den": None}, "'den' is null"),
    ],
)
def test_space_entities_that_name_no_fmriprep_output_are_rejected(entities, message):
    with pytest.raises(ValueError, match=message):
        check_config(a_config(**entities, atlas=GRAYORDINATE_ATLAS))


def test_the_atlas_is_checked_against_the_data():
    volume_data_with_a_dlabel = a_config(atlas=GRAYORDINATE_ATLAS)
    with pytest.raises(ValueError, match="atlas Glasser is a dlabel atlas"):
        check_config(volume_data_with_a_dlabel)
    grayordinate_setting = a_config(atlas={"subcortex": "none"})
    with pytest.raises(ValueError, match="grayordinate data only"):
        check_config(grayordinate_setting)
