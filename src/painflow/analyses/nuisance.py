"""Training data of a nuisance decoder: a subject's runs with a nuisance as target."""

from __future__ import annotations

from painflow.model.crossval import RunFeatures
from painflow.signals.edges import FeatureSettings, retarget_features
from painflow.signals.nuisance import nuisance_series


def nuisance_runs(
    runs: list[RunFeatures],
    target: str,
    settings: FeatureSettings,
    trs: dict,
    confounds: dict | None = None,
) -> list[RunFeatures]:
    """The runs with a nuisance target in place of the ratings, binned like them.

    Parameters
    ----------
    runs : list of RunFeatures
        A subject's included runs.
    target : str
        One of :data:`painflow.signals.nuisance.NUISANCE_TARGETS`.
    settings : FeatureSettings
        The rating bins' settings, applied to the target.
    trs : dict
        ``(session, run)`` to the run's repetition time (s).
    confounds : dict, optional
        ``(session, run)`` to the run's fMRIPrep confounds table, for the
        targets read there.

    Returns
    -------
    list of RunFeatures
        In the order of ``runs``; ``rating`` holds the target.
    """
    confounds = confounds or {}
    retargeted = []
    for run in runs:
        key = (run.session, run.run)
        values = nuisance_series(run.arrays, target, confounds.get(key))
        arrays = retarget_features(run.arrays, values, settings, float(trs[key]))
        retargeted.append(RunFeatures(run.session, run.run, arrays))
    return retargeted
