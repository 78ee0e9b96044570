"""Deterministic, atomic file writing: same data, same bytes, no partial files."""

from __future__ import annotations

import gzip
import io
import json
import os
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

# Fixed zip member time stamp: numpy's savez stamps the current time.
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
FLOAT_FORMAT = "%.10g"


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path that replaces ``path`` only on success.

    Parameters
    ----------
    path : str or Path
        The final destination; its folder is created.

    Yields
    ------
    Path
        A temporary file in the same folder. It is renamed to ``path`` when
        the block ends without an exception, and removed otherwise, so a
        failure never leaves a partial file behind.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp makes the file private; results get the usual permissions.
        tmp_path.chmod(0o666 & ~current_umask())
        os.replace(tmp_path, path)
    finally:
        tmp_path.unlink(missing_ok=True)


def current_umask() -> int:
    """The process's file-creation mask."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes(path: str | Path, data: bytes) -> None:
    """Write bytes atomically, gzip-compressing when the name ends in ``.gz``.

    The gzip header carries no time stamp or file name, so equal data give
    equal bytes.
    """
    if str(path).endswith(".gz"):
        buffer = io.BytesIO()
        with gzip.GzipFile(fileobj=buffer, mode="wb", filename="", mtime=0) as gz:
            gz.write(data)
        data = buffer.getvalue()
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_tsv(path: str | Path, table: pd.DataFrame, header: bool = True) -> None:
    """Write a table as TSV, missing values as ``n/a`` (BIDS), floats to 10 digits.

    Parameters
    ----------
    path : str or Path
        Destination (``.tsv`` or ``.tsv.gz``).
    table : pandas.DataFrame
        The table; its index is not written.
    header : bool
        Whether to write the column names (BIDS physio files have none).
    """
    text = table.to_csv(
        sep="\t",
        index=False,
        header=header,
        na_rep="n/a",
        float_format=FLOAT_FORMAT,
        lineterminator="\n",
    )
    write_bytes(path, text.encode())


def read_tsv(path: str | Path, dtype: dict | None = None) -> pd.DataFrame:
    """Read a TSV written by :func:`write_tsv` (``n/a`` as missing).

    Parameters
    ----------
    path : str or Path
        The table.
    dtype : dict, optional
        Column types, e.g. ``{"session": str}`` to keep labels like ``01``.
    """
    return pd.read_csv(
        path, sep="\t", na_values=["n/a"], keep_default_na=False, dtype=dtype
    )


def write_json(path: str | Path, content: dict) -> None:
    """Write JSON atomically with sorted keys and a trailing newline."""
    text = json.dumps(content, indent=2, sort_keys=True, allow_nan=False) + "\n"
    write_bytes(path, text.encode())


def read_json(path: str | Path) -> dict:
    """Read a JSON file, naming the file when it is not valid JSON."""
    try:
        return json.loads(Path(path).read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON ({error})") from error


def write_npz(path: str | Path, **arrays) -> None:
    """Write arrays as an uncompressed ``.npz`` with fixed time stamps.

    Parameters
    ----------
    path : str or Path
        Destination.
    **arrays
        Name to array; written in sorted name order.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, mode="w", compression=zipfile.ZIP_STORED) as archive:
        for name in sorted(arrays):
            member = io.BytesIO()
            np.lib.format.write_array(
                member, np.asanyarray(arrays[name]), allow_pickle=False
            )
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_EPOCH)
            archive.writestr(info, member.getvalue())
    with atomic_path(path) as tmp:
        tmp.write_bytes(buffer.getvalue())


def read_npz(path: str | Path) -> dict:
    """Read every array of an ``.npz`` file into a dict."""
    with np.load(path, allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


def read_npz_array(path: str | Path, name: str) -> np.ndarray:
    """Read one array of an ``.npz`` file, leaving the others on disk.

    Raises
    ------
    ValueError
        Naming the file when it holds no array ``name``.
    """
    with np.load(path, allow_pickle=False) as archive:
        if name not in archive.files:
            raise ValueError(f"{path}: no array {name!r}")
        return archive[name]
