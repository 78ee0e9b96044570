"""Simulated learning curves whose expected curve is known, to check the plan.

A simulated person's learning curve has the layout of the workflow's
(``n_train_sessions, repeat, test_session, scale, r``) and the expected r
``a - b * s ** -c`` at each training size ``s``: each held-out session adds
an effect of its own (some sessions are easier to predict), the same at every
size, and each draw of training sessions adds noise of its own. The truth the
plan's intervals should cover is therefore known in closed form: the expected
r at any number of sessions, the sessions needed to reach a target and the
gain of more sessions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from painflow.analyses.learningcurve import training_sizes
from painflow.analyses.plan import (
    plan_table,
    power_law,
    sessions_to_target,
)
from painflow.analyses.plansettings import PlanSettings
from painflow.core.streams import step_rng

# A person who saturates early (most of the asymptote after a few sessions)
# and one who saturates late, with the same asymptote.
EARLY = (0.6, 0.45, 1.5)
LATE = (0.6, 0.55, 0.5)


@dataclass(frozen=True)
class CurveTruth:
    """A simulated person's expected learning curve and its noise.

    Attributes
    ----------
    a, b, c : float
        The expected r with ``s`` training sessions is ``a - b * s ** -c``.
    session_sd : float
        Standard deviation of a held-out session's effect.
    draw_sd : float
        Standard deviation of the noise of one draw of training sessions.
    """

    a: float
    b: float
    c: float
    session_sd: float = 0.15
    draw_sd: float = 0.1

    @property
    def params(self) -> np.ndarray:
        """``(a, b, c)``."""
        return np.array([self.a, self.b, self.c])


def simulate_learning_curve(
    truth: CurveTruth,
    n_sessions: int,
    n_repeats: int,
    rng: np.random.Generator,
    scale: str = "1min",
) -> pd.DataFrame:
    """A learning-curve table of a person with sizes ``1 .. n_sessions - 2``.

    Parameters
    ----------
    truth : CurveTruth
    n_sessions : int
        Sessions of the person (held out in turn).
    n_repeats : int
        Draws per held-out session and size.
    rng : numpy.random.Generator
    scale : str
        The table's one scale.

    Returns
    -------
    pandas.DataFrame
        ``n_train_sessions, repeat, test_session, scale, r``.
    """
    sizes = np.array(training_sizes(n_sessions))
    effects = truth.session_sd * rng.standard_normal(n_sessions)
    noise = truth.draw_sd * rng.standard_normal((sizes.size, n_sessions, n_repeats))
    r = power_law(sizes, truth.a, truth.b, truth.c)[:, None, None] + effects[:, None]
    size, session, repeat = np.meshgrid(
        sizes, np.arange(1, n_sessions + 1), np.arange(n_repeats), indexing="ij"
    )
    return pd.DataFrame(
        {
            "n_train_sessions": size.ravel(),
            "repeat": repeat.ravel(),
            "test_session": [f"{t:02d}" for t in session.ravel()],
            "scale": scale,
            "r": (r + noise).ravel(),
        }
    )


def true_plan(truth: CurveTruth, n_sessions: int, settings: PlanSettings) -> dict:
    """The quantities of the plan that ``truth`` implies.

    Returns
    -------
    dict
        ``r_2n`` (the expected r with ``2 * n_sessions`` sessions),
        ``sessions_to_target`` and ``gain`` (``n_sessions`` to
        ``n_sessions + extra_sessions``).
    """
    params = truth.params
    extra = settings.extra_sessions
    return {
        "r_2n": float(power_law(2 * n_sessions, *params)),
        "sessions_to_target": sessions_to_target(
            params, settings.target_r, settings.max_sessions
        ),
        "gain": float(
            power_law(n_sessions + extra, *params) - power_law(n_sessions, *params)
        ),
    }


def covered(
    truth: CurveTruth, n_sessions: int, plan: pd.DataFrame, settings: PlanSettings
) -> dict:
    """Whether each of the plan's intervals holds the truth.

    Parameters
    ----------
    truth : CurveTruth
    n_sessions : int
    plan : pandas.DataFrame
        :func:`painflow.analyses.plan.plan_table` of one scale of a
        :func:`simulate_learning_curve` table, made with ``settings``.
    settings : PlanSettings

    Returns
    -------
    dict
        ``r_2n``, ``sessions_to_target``, ``gain`` to a bool, and
        ``estimated_sessions``: the plan's sessions to the target.
    """
    by_quantity = plan[plan["quantity"] != "r"].set_index("quantity")
    curve = plan[plan["quantity"] == "r"].set_index("n_sessions")
    rows = {
        "r_2n": curve.loc[2 * n_sessions],
        "sessions_to_target": by_quantity.loc["sessions_to_target"],
        "gain": by_quantity.loc["gain"],
    }
    truth_values = true_plan(truth, n_sessions, settings)
    result = {
        name: bool(row["ci_low"] <= truth_values[name] <= row["ci_high"])
        for name, row in rows.items()
    }
    result["estimated_sessions"] = float(rows["sessions_to_target"]["estimate"])
    return result


def coverage_study(
    truth: CurveTruth,
    n_sessions: int,
    n_repeats: int,
    seeds: range,
    settings: PlanSettings,
) -> pd.DataFrame:
    """Simulate a person once per seed, plan, and check the plan against the truth.

    Each seed draws its table from ``step_rng(seed, "plan_coverage")`` and
    plans it with that seed.

    Returns
    -------
    pandas.DataFrame
        One row per seed: ``seed`` and the columns of :func:`covered`.
    """
    rows = []
    for seed in seeds:
        rng = step_rng(seed, "plan_coverage")
        table = simulate_learning_curve(truth, n_sessions, n_repeats, rng)
        plan = plan_table(table, settings, seed)
        rows.append({"seed": seed, **covered(truth, n_sessions, plan, settings)})
    return pd.DataFrame(rows)
