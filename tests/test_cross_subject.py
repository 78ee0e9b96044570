import numpy as np
import pytest

from painflow.core.fileio import write_npz
from painflow.steps.crosssubject import cross_subject


def test_a_model_of_another_atlas_is_refused_naming_both_files(tmp_path, rng):
    model = tmp_path / "sub-01_atlas-A_model.npz"
    write_npz(
        model,
        edge_weights=np.zeros(3),
        intercept=np.array(0.0),
        n_components=np.array(1),
        inner_r=np.zeros(1),
        region_names=np.array(["a", "b", "c"]),
    )
    features = tmp_path / "sub-02_ses-01_run-1_atlas-B_edges.npz"
    write_npz(
        features,
        included=np.array(True),
        zscored=rng.standard_normal((20, 4)),
        region_names=np.array(["a", "b", "c", "d"]),
    )
    table = tmp_path / "pair.tsv"
    with pytest.raises(ValueError, match="another atlas") as raised:
        cross_subject(
            model=str(model),
            features=[str(features)],
            qc_files=[],
            units={features.name: {"session": "01", "run": "1"}},
            train_subject="01",
            test_subject="02",
            time_bins={"1min": 60},
            scales=["1min"],
            table_out=str(table),
        )
    assert model.name in str(raised.value)
    assert features.name in str(raised.value)
    assert not table.exists()
