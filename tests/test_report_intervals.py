"""Interval bars of the comparison figures, when an interval misses its estimate."""

import numpy as np
import pandas as pd

from painflow.report.comparisonplots import plot_group_model
from painflow.report.nuisanceplots import plot_nuisance
from painflow.report.plots import interval_errors


def test_interval_errors_are_lengths_and_never_negative():
    errors = interval_errors([0.5, 0.2, np.nan], [0.3, 0.4, 0.1], [0.9, 0.1, 0.2])
    assert np.allclose(errors[:, 0], [0.2, 0.4])
    # An estimate above its interval: no bar above it, the whole bar below.
    assert np.allclose(errors[:, 1], [0.0, 0.0])
    assert np.isnan(errors[:, 2]).all()


def interval_missing_estimate(table: pd.DataFrame) -> pd.DataFrame:
    """The table with its first row's interval wholly below its estimate."""
    table = table.copy()
    table.loc[0, ["estimate", "ci_low", "ci_high"]] = [0.6, 0.1, 0.4]
    return table


def test_figures_draw_an_interval_that_misses_its_estimate(tmp_path):
    scales = ["1min", "run"]
    nuisance = pd.DataFrame(
        [
            {
                "target": target,
                "scale": scale,
                "metric": metric,
                "estimate": 0.3,
                "ci_low": 0.1,
                "ci_high": 0.5,
                "p_value": 0.1,
                "permutation_p": np.nan,
            }
            for scale in scales
            for target, metric in (
                ("pain", "r"),
                ("fd", "r"),
                ("fd", "pain_partial_r"),
                ("fd", "pain_partial_r_decoded"),
            )
        ]
    )
    plot_nuisance(interval_missing_estimate(nuisance), "sub-01", tmp_path / "n.png")
    group = pd.DataFrame(
        [
            {
                "subject": subject,
                "model": model,
                "scale": scale,
                "metric": "r",
                "estimate": 0.3,
                "ci_low": 0.1,
                "ci_high": 0.5,
                "p_value": 0.1,
                "note": np.nan,
            }
            for subject in ("01", "02", "03")
            for model in ("personal", "group", "group_matched")
            for scale in scales
        ]
    )
    plot_group_model(interval_missing_estimate(group), tmp_path / "g.png")
    assert (tmp_path / "n.png").stat().st_size > 0
    assert (tmp_path / "g.png").stat().st_size > 0
