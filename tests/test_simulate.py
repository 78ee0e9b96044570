import gzip
import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from nilearn.interfaces.fmriprep import load_confounds

from painflow import cli
from painflow.atlas.networks import AAL_NETWORKS, aal_network
from painflow.core.bids import bids_path
from painflow.signals.confounds import MOTION_COLUMNS
from painflow.simulation.confounds import dct_basis, power_framewise_displacement
from painflow.simulation.generative import load_aal_atlas
from painflow.simulation.parameters import SimulationParameters
from painflow.simulation.study import simulate_study

# Enough sessions that pain levels differ, runs long enough for a cosine column.
N_SUBJECTS, N_SESSIONS, N_RUNS, N_VOLUMES, TR = 2, 8, 1, 70, 2.0
SESSIONS = [f"{t:02d}" for t in range(1, N_SESSIONS + 1)]
PARAMS = SimulationParameters()
FD_THRESHOLD = 0.15


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    root = tmp_path_factory.mktemp("study")
    truth = simulate_study(
        root, N_SUBJECTS, N_SESSIONS, N_RUNS, N_VOLUMES, TR, seed=0, parameters=PARAMS
    )
    return root, truth


def run_entities(subject, session="01", run="1"):
    return {"subject": subject, "session": session, "task": "rating", "run": run}


def preproc_path(root, entities, extension=".nii.gz"):
    return bids_path(
        root / "derivatives" / "fmriprep",
        {**entities, "space": "MNI152NLin6Asym", "res": "6", "desc": "preproc"},
        "bold",
        extension,
    )


def confounds_path(root, entities, extension=".tsv"):
    return bids_path(
        root / "derivatives" / "fmriprep",
        {**entities, "desc": "confounds"},
        "timeseries",
        extension,
    )


def ratings_path(root, entities, extension=".tsv.gz"):
    return bids_path(root, {**entities, "recording": "rating"}, "physio", extension)


def read_confounds(root, entities):
    return pd.read_csv(confounds_path(root, entities), sep="\t", na_values="n/a")


def atlas_labels(root, truth):
    return np.asarray(nib.load(root / truth["atlas"]["image"]).dataobj)


def preproc_voxels(root, truth, entities):
    """(volumes, voxels) of the in-atlas voxels and their labels."""
    labels = atlas_labels(root, truth)
    data = np.asarray(nib.load(preproc_path(root, entities)).dataobj)
    return data[labels > 0].T.astype(float), labels[labels > 0]


def regress_out(data, design):
    design = np.column_stack([np.ones(len(data)), design])
    return data - design @ np.linalg.lstsq(design, data, rcond=None)[0]


def partial_r2(data, base, added):
    """Mean over columns of the variance fraction ``added`` explains beyond ``base``."""
    before = regress_out(data, base)
    after = regress_out(data, np.column_stack([base, added]))
    return float(np.mean(1 - after.var(axis=0) / before.var(axis=0)))


# -- layout -------------------------------------------------------------------


def test_file_names_are_the_fixed_interface(study):
    root, _ = study
    expected = """
        sub-01/ses-01/func/sub-01_ses-01_task-rating_run-1_bold.nii.gz
        sub-01/ses-01/func/sub-01_ses-01_task-rating_run-1_bold.json
        sub-01/ses-01/func/sub-01_ses-01_task-rating_run-1_recording-rating_physio.tsv.gz
        sub-01/ses-01/func/sub-01_ses-01_task-rating_run-1_recording-rating_physio.json
        sub-01/ses-01/anat/sub-01_ses-01_T1w.nii.gz
        sub-01/sub-01_sessions.tsv
        derivatives/fmriprep/dataset_description.json
        derivatives/fmriprep/sub-01/ses-01/func/sub-01_ses-01_task-rating_run-1_space-MNI152NLin6Asym_res-6_desc-preproc_bold.nii.gz
        derivatives/fmriprep/sub-01/ses-01/func/sub-01_ses-01_task-rating_run-1_space-MNI152NLin6Asym_res-6_desc-preproc_bold.json
        derivatives/fmriprep/sub-01/ses-01/func/sub-01_ses-01_task-rating_run-1_desc-confounds_timeseries.tsv
        derivatives/fmriprep/sub-01/ses-01/func/sub-01_ses-01_task-rating_run-1_desc-confounds_timeseries.json
        atlas/atlas-AAL_space-MNI152NLin6Asym_res-6_dseg.nii.gz
        atlas/atlas-AAL_dseg.tsv
        ground_truth.json
        .bidsignore
    """.split()
    missing = [name for name in expected if not (root / name).is_file()]
    assert not missing
    assert not list(root.rglob("*.tmp"))


def test_layout_and_sidecars(study):
    root, truth = study
    for name in ("dataset_description.json", "participants.tsv", "README"):
        assert (root / name).is_file()
    description = json.loads((root / "dataset_description.json").read_text())
    assert description["BIDSVersion"] == "1.10.0"
    assert description["DatasetType"] == "raw"
    derivatives = json.loads(
        (root / "derivatives" / "fmriprep" / "dataset_description.json").read_text()
    )
    assert derivatives["DatasetType"] == "derivative"
    assert derivatives["GeneratedBy"][0]["Name"] == "painflow"
    assert set((root / ".bidsignore").read_text().split()) == {
        "atlas",
        "ground_truth.json",
    }
    participants = pd.read_csv(root / "participants.tsv", sep="\t")
    assert participants["participant_id"].tolist() == ["sub-01", "sub-02"]

    for subject in ("01", "02"):
        sessions = pd.read_csv(
            bids_path(root, {"subject": subject}, "sessions", ".tsv", datatype=None),
            sep="\t",
        )
        assert sessions["session_id"].tolist() == [f"ses-{t}" for t in SESSIONS]
        days = np.diff(pd.to_datetime(sessions["acq_time"])) / np.timedelta64(1, "D")
        assert np.all((days > 4) & (days < 10))
        anat = {"subject": subject, "session": "01"}
        assert bids_path(root, anat, "T1w", ".nii.gz", datatype="anat").is_file()
        assert bids_path(root, anat, "T1w", ".json", datatype="anat").is_file()
        for session in SESSIONS:
            entities = run_entities(subject, session)
            bold = bids_path(root, entities, "bold", ".nii.gz")
            assert bold.is_file()
            sidecar = json.loads(bids_path(root, entities, "bold", ".json").read_text())
            assert sidecar == {"RepetitionTime": TR, "TaskName": "rating"}
            physio = json.loads(ratings_path(root, entities, ".json").read_text())
            assert physio["SamplingFrequency"] == 10
            assert physio["StartTime"] == 0
            assert physio["Columns"] == ["pain"]
            preproc = json.loads(preproc_path(root, entities, ".json").read_text())
            assert preproc["RepetitionTime"] == TR
            assert preproc["SkullStripped"] is True
            assert confounds_path(root, entities).is_file()
            assert confounds_path(root, entities, ".json").is_file()


def test_images(study):
    root, truth = study
    entities = run_entities("01")
    raw = nib.load(bids_path(root, entities, "bold", ".nii.gz"))
    preproc = nib.load(preproc_path(root, entities))
    labels = nib.load(root / truth["atlas"]["image"])
    assert labels.shape == (31, 37, 31)
    assert labels.get_data_dtype() == np.int16
    assert raw.shape == preproc.shape == (31, 37, 31, N_VOLUMES)
    assert raw.get_data_dtype() == np.int16
    assert preproc.get_data_dtype() == np.float32
    assert preproc.header.get_zooms() == (6.0, 6.0, 6.0, TR)
    np.testing.assert_allclose(preproc.affine, labels.affine)
    data = np.asarray(preproc.dataobj)
    inside = np.asarray(labels.dataobj) > 0
    assert np.all(data[~inside] == 0)
    assert 800 < data[inside].mean() < 1200
    np.testing.assert_allclose(np.asarray(raw.dataobj), np.round(data), atol=1)


def test_atlas(study):
    root, truth = study
    assert truth["atlas"]["image"] == (
        "atlas/atlas-AAL_space-MNI152NLin6Asym_res-6_dseg.nii.gz"
    )
    table = pd.read_csv(root / "atlas" / "atlas-AAL_dseg.tsv", sep="\t")
    assert table.columns.tolist() == ["index", "name", "network"]
    assert table["index"].tolist() == list(range(1, 117))
    assert set(table["network"]) == {network for _, network in AAL_NETWORKS}
    assert set(np.unique(atlas_labels(root, truth))) == set(range(117))
    assert aal_network("Temporal_Pole_Sup_L") == "Limbic"
    assert aal_network("Temporal_Mid_R") == "Temporal"
    assert aal_network("Vermis_1_2") == "Cerebellum"
    with pytest.raises(ValueError, match="no network"):
        aal_network("Brainstem")


def test_atlas_raises_when_regions_vanish():
    with pytest.raises(ValueError, match="vanish"):
        load_aal_atlas(voxel_size=12)


def test_ratings_cover_the_run(study):
    root, _ = study
    with gzip.open(ratings_path(root, run_entities("01"))) as stream:
        ratings = np.loadtxt(stream)
    assert ratings.ndim == 1
    assert (ratings.size - 1) / 10 >= N_VOLUMES * TR + 1
    assert ratings.min() >= 0 and ratings.max() <= 100
    # a slow drift with small hand jitter: consecutive samples stay close
    assert np.median(np.abs(np.diff(ratings))) < 1.5
    assert ratings.std() > 1


def test_confounds_columns(study):
    root, _ = study
    entities = run_entities("01")
    confounds = read_confounds(root, entities)
    base = ["global_signal", "csf", "white_matter", *MOTION_COLUMNS]
    expected = {
        f"{name}{suffix}"
        for name in base
        for suffix in ("", "_derivative1", "_power2", "_derivative1_power2")
    }
    expected |= {"framewise_displacement", "dvars", "std_dvars"}
    expected |= {f"a_comp_cor_{i:02d}" for i in range(15)}
    assert expected <= set(confounds.columns)
    assert not any(c.startswith("non_steady_state") for c in confounds.columns)
    cosines = confounds.filter(like="cosine").to_numpy()
    np.testing.assert_allclose(cosines, dct_basis(N_VOLUMES, TR), atol=1e-8)
    assert cosines.shape[1] == int(2 * N_VOLUMES * TR / 128) - 1
    first = confounds.iloc[0]
    assert first.filter(like="derivative1").isna().all()
    assert np.isnan(first["framewise_displacement"])
    assert confounds.iloc[1:].notna().all().all()
    np.testing.assert_allclose(
        confounds["trans_x_derivative1"].iloc[1:], np.diff(confounds["trans_x"])
    )

    compcor = confounds.filter(like="a_comp_cor").to_numpy()
    for block in np.split(compcor, 3, axis=1):  # CSF, WM, combined
        np.testing.assert_allclose(block.T @ block, np.eye(5), atol=1e-8)
        np.testing.assert_allclose(block.mean(axis=0), 0, atol=1e-9)
    metadata = json.loads(confounds_path(root, entities, ".json").read_text())
    masks = [metadata[f"a_comp_cor_{i:02d}"]["Mask"] for i in range(15)]
    assert masks == ["CSF"] * 5 + ["WM"] * 5 + ["combined"] * 5
    for entry in metadata.values():
        assert entry["Method"] == "aCompCor" and entry["Retained"] is True
        assert {"SingularValue", "VarianceExplained"} <= set(entry)
        assert 0 < entry["CumulativeVarianceExplained"] <= 1 + 1e-9


def test_nilearn_load_confounds(study):
    root, _ = study
    entities = run_entities("02", "03")
    loaded, sample_mask = load_confounds(
        str(preproc_path(root, entities)),
        strategy=("motion", "high_pass", "compcor"),
        motion="basic",
        compcor="anat_separated",
        n_compcor=5,
        demean=False,
    )
    columns = set(loaded.columns)
    assert set(MOTION_COLUMNS) <= columns
    assert {f"a_comp_cor_{i:02d}" for i in range(10)} <= columns
    assert not {f"a_comp_cor_{i:02d}" for i in range(10, 15)} & columns
    n_cosines = sum(c.startswith("cosine") for c in columns)
    assert n_cosines >= 1 and len(columns) == 16 + n_cosines
    assert sample_mask is None


# -- ground truth and signal --------------------------------------------------


def test_ground_truth(study):
    root, truth = study
    assert json.loads((root / "ground_truth.json").read_text()) == truth
    assert truth["design"]["n_subjects"] == N_SUBJECTS
    assert truth["parameters"]["motion_spike_rate"] == PARAMS.motion_spike_rate
    table = pd.read_csv(root / "atlas" / "atlas-AAL_dseg.tsv", sep="\t")
    names = dict(zip(table["index"], table["name"], strict=True))
    sizes = np.bincount(atlas_labels(root, truth).ravel(), minlength=117)
    sets = []
    for subject in ("01", "02"):
        info = truth["subjects"][subject]
        assert info["delay_seconds"] == PARAMS.delay
        assert info["gain"] == PARAMS.signal_gain
        indices = info["signal_region_indices"]
        assert len(indices) == PARAMS.n_signal_regions
        assert info["signal_region_names"] == [names[i] for i in indices]
        assert np.all(sizes[indices] >= PARAMS.min_signal_region_voxels)
        sets.append(set(indices))
    assert not sets[0] & sets[1]


def clean_region_series(root, truth, entities):
    """Region means of the preprocessed BOLD after confound regression.

    Returns the cleaned (volumes, 116) series and the volumes kept after
    censoring FD > 0.15 mm.
    """
    voxels, labels = preproc_voxels(root, truth, entities)
    regions = np.stack([voxels[:, labels == i].mean(axis=1) for i in range(1, 117)], 1)
    confounds = read_confounds(root, entities)
    design = np.column_stack(
        [
            np.arange(len(regions)),
            confounds[list(MOTION_COLUMNS)],
            confounds[[f"a_comp_cor_{i:02d}" for i in range(10)]],
            confounds.filter(like="cosine"),
        ]
    )
    keep = ~(confounds["framewise_displacement"].fillna(0) > FD_THRESHOLD).to_numpy()
    return regress_out(regions, design), keep


def edge_mean(z, regions):
    """Mean over region pairs of the edge time series (products of z-scores)."""
    columns = z[:, np.asarray(regions) - 1]
    i, j = np.triu_indices(columns.shape[1], 1)
    return (columns[:, i] * columns[:, j]).mean(axis=1)


def delayed_ratings(root, entities, delay):
    with gzip.open(ratings_path(root, entities)) as stream:
        ratings = np.loadtxt(stream)
    times = (np.arange(N_VOLUMES) + 0.5) * TR - delay
    return np.interp(times, np.arange(ratings.size) / 10, ratings), times >= 0


def bin_means(values, size=10):
    """Means of consecutive stretches of ``size`` values (the last one shorter)."""
    return np.array(
        [chunk.mean() for chunk in np.array_split(values, -(-len(values) // size))]
    )


def signal_correlations(root, truth, subject, other_regions):
    """Correlation of 10-volume means of edge products with delayed ratings.

    For the mean edge product of the subject's signal regions and for that of
    ``other_regions``; binning averages out the coupling source's own variance.
    """
    info = truth["subjects"][subject]
    signal, other, pain = [], [], []
    for session in SESSIONS:
        entities = run_entities(subject, session)
        cleaned, keep = clean_region_series(root, truth, entities)
        rating, valid = delayed_ratings(root, entities, info["delay_seconds"])
        kept = keep & valid
        z = cleaned[kept]
        z = (z - z.mean(axis=0)) / z.std(axis=0)
        signal.append(bin_means(edge_mean(z, info["signal_region_indices"])))
        other.append(bin_means(edge_mean(z, other_regions)))
        pain.append(bin_means(rating[kept]))
    pain = np.concatenate(pain)
    return (
        np.corrcoef(np.concatenate(signal), pain)[0, 1],
        np.corrcoef(np.concatenate(other), pain)[0, 1],
    )


@pytest.mark.parametrize("subject", ["01", "02"])
def test_signal_edges_track_delayed_pain(study, subject):
    root, truth = study
    used = {
        i for info in truth["subjects"].values() for i in info["signal_region_indices"]
    }
    sizes = np.bincount(atlas_labels(root, truth).ravel(), minlength=117)
    others = [i for i in np.argsort(-sizes) if i > 0 and i not in used][:8]
    r_signal, r_other = signal_correlations(root, truth, subject, others)
    assert r_signal > 0.3
    assert r_signal > r_other + 0.2


def test_signal_edges_of_another_subject_do_not_track_pain(study):
    root, truth = study
    foreign = truth["subjects"]["02"]["signal_region_indices"]
    r_own, r_foreign = signal_correlations(root, truth, "01", foreign)
    assert r_foreign < r_own - 0.2


# -- nuisance -----------------------------------------------------------------


def nuisance_fits(root, truth, entities):
    """Variance of the mean voxel signal explained by each kind of confound.

    Each is the fraction explained beyond the ones before it, for the real
    columns and for the same columns reversed in time (as smooth, but out of
    step with the data). Spike volumes are left out.
    """
    voxels, _ = preproc_voxels(root, truth, entities)
    confounds = read_confounds(root, entities)
    keep = ~(confounds["framewise_displacement"].fillna(0) > FD_THRESHOLD).to_numpy()
    mean_signal = voxels[keep].mean(axis=1, keepdims=True)
    confounds = confounds[keep]
    drifts = np.column_stack([np.arange(keep.sum()), confounds.filter(like="cosine")])
    compcor = confounds[[f"a_comp_cor_{i:02d}" for i in range(10)]].to_numpy()
    motion = confounds[list(MOTION_COLUMNS)].to_numpy()
    unused = confounds[[f"a_comp_cor_{i:02d}" for i in range(10, 15)]].to_numpy()
    fits = {}
    base = drifts
    for name, columns in (("compcor", compcor), ("motion", motion), ("unused", unused)):
        fits[name] = partial_r2(mean_signal, base, columns)
        fits[f"{name}_reversed"] = partial_r2(mean_signal, base, columns[::-1])
        base = np.column_stack([base, columns])
    return fits


def test_physiological_and_motion_nuisance_are_in_the_data(study):
    root, truth = study
    fits = pd.DataFrame(
        [nuisance_fits(root, truth, run_entities("01", s)) for s in SESSIONS]
    )
    assert (fits["compcor"] > fits["compcor_reversed"]).all()
    assert (fits["motion"] > fits["motion_reversed"]).all()
    assert fits["compcor"].mean() > 0.8
    assert fits["motion"].mean() > 0.6
    # the "combined" aCompCor columns are not in the data
    assert fits["unused"].mean() < 0.3


def test_compcor_is_in_every_voxel(study):
    root, truth = study
    entities = run_entities("02", "04")
    voxels, _ = preproc_voxels(root, truth, entities)
    confounds = read_confounds(root, entities)
    drifts = np.column_stack([np.arange(N_VOLUMES), confounds.filter(like="cosine")])
    compcor = confounds[[f"a_comp_cor_{i:02d}" for i in range(10)]].to_numpy()
    assert partial_r2(voxels, drifts, compcor) > 1.5 * partial_r2(
        voxels, drifts, compcor[::-1]
    )


def test_nuisance_inflates_every_edge(study):
    root, truth = study
    entities = run_entities("02", "01")
    voxels, labels = preproc_voxels(root, truth, entities)
    regions = np.stack([voxels[:, labels == i].mean(axis=1) for i in range(1, 117)], 1)
    cleaned, keep = clean_region_series(root, truth, entities)
    trend = np.arange(len(regions))[:, None]
    raw = np.corrcoef(regress_out(regions, trend)[keep].T)
    clean = np.corrcoef(cleaned[keep].T)
    off = ~np.eye(116, dtype=bool)
    assert np.mean(np.abs(raw[off])) > 2 * np.mean(np.abs(clean[off]))


def test_spikes_give_large_fd_and_dvars(study):
    root, _ = study
    fd, std_dvars = [], []
    for subject in ("01", "02"):
        for session in SESSIONS:
            confounds = read_confounds(root, run_entities(subject, session))
            fd.append(confounds["framewise_displacement"].to_numpy()[1:])
            std_dvars.append(confounds["std_dvars"].to_numpy()[1:])
    fd, std_dvars = np.concatenate(fd), np.concatenate(std_dvars)
    spikes = fd > 0.3
    assert spikes.sum() >= 2
    assert np.median(fd) < 0.1
    assert np.mean(fd > FD_THRESHOLD) < 0.2
    assert np.median(std_dvars[spikes]) > 2 * np.median(std_dvars)


def test_power_framewise_displacement():
    motion = np.zeros((4, 6))
    motion[2, 0] = 0.5  # 0.5 mm translation, then back
    motion[3, 3] = 0.01  # 0.01 rad = 0.5 mm on a 50 mm sphere
    fd = power_framewise_displacement(motion, tr=2.0, head_radius=50.0)
    assert np.isnan(fd[0])
    np.testing.assert_allclose(fd[1:], [0.0, 0.5, 1.0])


# -- determinism ----------------------------------------------------------------


def simulate_small(root, n_sessions=2, seed=0, n_subjects=1):
    simulate_study(
        root,
        n_subjects=n_subjects,
        n_sessions=n_sessions,
        n_runs=1,
        n_volumes=30,
        seed=seed,
    )
    return {
        path.relative_to(root): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def is_run_file(path: Path, sessions=("01", "02")):
    return any(f"_ses-{session}_" in path.name for session in sessions)


def test_same_seed_same_bytes(tmp_path):
    first = simulate_small(tmp_path / "a")
    second = simulate_small(tmp_path / "b")
    assert first.keys() == second.keys()
    for name in first:
        assert first[name] == second[name], name


def test_other_seed_other_data(tmp_path):
    first = simulate_small(tmp_path / "a")
    other = simulate_small(tmp_path / "b", seed=1)
    assert first.keys() == other.keys()
    data = [
        name
        for name in first
        if name.name.endswith(("_bold.nii.gz", "_physio.tsv.gz", "_timeseries.tsv"))
    ]
    assert len(data) == 2 * 4
    for name in data:
        assert first[name] != other[name], name


def test_adding_a_session_keeps_earlier_files(tmp_path):
    two = simulate_small(tmp_path / "a", n_sessions=2)
    three = simulate_small(tmp_path / "b", n_sessions=3)
    earlier = [name for name in two if is_run_file(name)]
    assert len(earlier) == 2 * 8 + 2  # 8 files per run, plus the T1w
    for name in earlier:
        assert two[name] == three[name], name
    assert [n for n in three if is_run_file(n, ("03",))]


def test_adding_a_subject_keeps_earlier_subjects(tmp_path):
    one = simulate_small(tmp_path / "a")
    two = simulate_small(tmp_path / "b", n_subjects=2)
    earlier = [name for name in one if name.parts[0] in ("sub-01", "derivatives")]
    # 8 files per run, the T1w and its sidecar, sessions.tsv and the
    # derivatives' dataset_description.json
    assert len(earlier) == 2 * 8 + 4
    for name in earlier:
        assert one[name] == two[name], name
    assert any(name.parts[0] == "sub-02" for name in two)


# -- command line ---------------------------------------------------------------


def test_cli_simulate(tmp_path, capsys):
    out = tmp_path / "cli"
    status = cli.main(
        [
            "simulate",
            str(out),
            "--subjects",
            "1",
            "--sessions",
            "1",
            "--runs",
            "2",
            "--volumes",
            "25",
            "--tr",
            "1.5",
            "--seed",
            "3",
        ]
    )
    assert status == 0
    assert "1 subjects x 1 sessions x 2 runs" in capsys.readouterr().out
    truth = json.loads((out / "ground_truth.json").read_text())
    assert truth["design"]["repetition_time"] == 1.5
    assert truth["design"]["seed"] == 3
    image = nib.load(preproc_path(out, run_entities("01", "01", "2")))
    assert image.shape[-1] == 25
    assert image.header.get_zooms()[-1] == 1.5


def test_cli_rejects_bad_input(tmp_path, capsys):
    assert cli.main(["simulate", str(tmp_path), "--subjects", "50"]) == 1
    assert "signal regions" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["simulate", str(tmp_path), "--volumes", "0"])
