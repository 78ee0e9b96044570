"""Independent random streams, one for every step and key that draws.

A stream is named, not numbered: its seed is the workflow's ``seed`` plus a
hash of the step's name and keys (a scale, a training size, a repeat). So
reordering a config list, adding a scale or a repeat never changes the draws
of another step, scale or repeat.
"""

from __future__ import annotations

import hashlib

import numpy as np

# Words of 32 bits taken from the name's digest: 128 bits, so that two names
# never share a stream in practice.
_NAME_WORDS = 4


def stream_entropy(seed: int, step: str, *keys: object) -> list[int]:
    """The entropy of a named stream: the seed, then 32-bit words of a digest.

    Parameters
    ----------
    seed : int
        The workflow's seed (non-negative).
    step : str
        Name of the step that draws, e.g. ``"evaluate"``.
    *keys : object
        Further names of the stream (scale, training size, repeat); their
        ``str`` is hashed, so ``3`` and ``"3"`` name the same stream.

    Returns
    -------
    list of int
    """
    if int(seed) < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")
    name = "\x1f".join([step, *(str(key) for key in keys)])
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    words = [
        int.from_bytes(digest[4 * i : 4 * i + 4], "little") for i in range(_NAME_WORDS)
    ]
    return [int(seed), *words]


def step_rng(seed: int, step: str, *keys: object) -> np.random.Generator:
    """Return the random generator of a named stream.

    Parameters
    ----------
    seed : int
        The workflow's seed.
    step : str
        Name of the step that draws.
    *keys : object
        Further names of the stream.

    Returns
    -------
    numpy.random.Generator

    Examples
    --------
    >>> a = step_rng(0, "evaluate", "1min").random()
    >>> b = step_rng(0, "evaluate", "1min").random()
    >>> a == b
    True
    """
    return np.random.default_rng(
        np.random.SeedSequence(stream_entropy(seed, step, *keys))
    )
