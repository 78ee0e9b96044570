"""The individual atlas through the workflow, on people with their own topography.

The simulated people's parcels differ (shifted boundaries, a network larger in
one of them): the workflow's parcels of a person should recover that person's
truth better than the other person's or the group template the people's
parcels were drawn from, and name their networks.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score
from workflow_runner import run_workflow, study_config

from painflow.atlas.surface import read_dlabel
from painflow.core.fileio import read_json, read_tsv
from painflow.simulation.parameters import IndividualParameters
from painflow.simulation.study import simulate_study

pytestmark = pytest.mark.workflow

# sub-01 is analysed; sub-02's truth is the other person's parcels.
SUBJECT, OTHER = "01", "02"
# Lighter than the study: every 20th vertex seeds a similarity map, 2 Infomap
# trials; a rest run of 150 volumes in each of 6 sessions.
LIGHT = {"similarity_stride": 20, "infomap_trials": 2}
UNTIL_ATLAS = ("--until", "individual_parcellation")
N_CORTEX = 59412


def grayordinate_config(study: Path, output: Path, atlas: dict) -> dict:
    """The tiny study's grayordinates with an atlas (cortex only)."""
    config = study_config(study, output, space="fsLR", res=None, den="91k")
    config["atlas"] = {**atlas, "subcortex": "none"}
    config["individual"] = dict(LIGHT)
    config["subjects"] = [SUBJECT]
    config["prospective"] = {"train_sessions": 4}
    return config


@pytest.fixture(scope="module")
def individual_study(tmp_path_factory) -> Path:
    study = tmp_path_factory.mktemp("individual") / "data"
    simulate_study(
        study,
        n_subjects=2,
        n_sessions=6,
        n_runs=1,
        n_volumes=60,
        seed=5,
        cifti=True,
        artifacts=True,
        individual=IndividualParameters(n_rest_volumes=150),
    )
    return study


def run(study: Path, work: Path, atlas: dict) -> Path:
    result = run_workflow(
        grayordinate_config(study, work / "out", atlas), work, *UNTIL_ATLAS
    )
    assert result.returncode == 0, result.stdout[-3000:]
    return work / "out"


@pytest.fixture(scope="module")
def individual_run(individual_study, tmp_path_factory) -> Path:
    atlas = {"name": "individual", "image": None, "labels": None}
    return run(individual_study, tmp_path_factory.mktemp("individual_run"), atlas)


def cortex_labels(path: Path) -> np.ndarray:
    """A dlabel's labels on the 91k cortex columns."""
    _, values, _ = read_dlabel(path)
    return values[:N_CORTEX]


def truth_files(study: Path, subject: str) -> tuple[Path, Path]:
    truth = read_json(study / "ground_truth.json")["subjects"][subject]["individual"]
    return study / truth["image"], study / truth["labels"]


def found_atlas(out: Path, subject: str) -> tuple[np.ndarray, pd.DataFrame]:
    anat = out / f"sub-{subject}" / "anat"
    labels = cortex_labels(
        anat / f"sub-{subject}_space-fsLR_den-91k_atlas-individual_dseg.dlabel.nii"
    )
    return labels, read_tsv(anat / f"sub-{subject}_atlas-individual_dseg.tsv")


def agreement(found: np.ndarray, truth: np.ndarray, where: np.ndarray) -> float:
    """Adjusted Rand index on the vertices ``where`` selects."""
    return adjusted_rand_score(truth[where], found[where])


def test_the_persons_parcels_are_recovered_better_than_by_the_other_or_the_template(
    individual_run, individual_study
):
    template = read_json(individual_study / "ground_truth.json")["individual"]
    group = cortex_labels(individual_study / template["template"]["image"])
    own = cortex_labels(truth_files(individual_study, SUBJECT)[0])
    other = cortex_labels(truth_files(individual_study, OTHER)[0])
    found, table = found_atlas(individual_run, SUBJECT)
    # The vertices of the kept parcels (boundaries and visual parcels aside).
    where = (found > 0) & (own > 0) & (other > 0)
    scores = {
        "own truth": agreement(found, own, where),
        "other's truth": agreement(found, other, where),
        "template vs own truth": agreement(group, own, where),
    }
    print(f"sub-{SUBJECT}: {len(table)} parcels kept; adjusted Rand index", scores)
    assert scores["own truth"] > scores["other's truth"] + 0.05
    assert scores["own truth"] > scores["template vs own truth"]


def test_network_labels_match_the_truth_for_most_parcels(
    individual_run, individual_study
):
    found, table = found_atlas(individual_run, SUBJECT)
    truth_image, truth_table = truth_files(individual_study, SUBJECT)
    truth = cortex_labels(truth_image)
    regions = read_tsv(truth_table)
    truth_network = dict(zip(regions["index"], regions["network"], strict=True))
    named = table[table["network"].notna()]  # "n/a": no network
    matches = []
    for index, network in zip(named["index"], named["network"], strict=True):
        inside = truth[(found == index) & (truth > 0)]
        matches.append(truth_network[np.bincount(inside).argmax()] == network)
    share = float(np.mean(matches))
    print(
        f"sub-{SUBJECT}: {len(named)} of {len(table)} parcels named, {share:.0%} right"
    )
    assert share > 0.75
    assert "Visual" not in set(table["network"])  # left out, as in the study
