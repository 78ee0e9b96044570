"""painflow's streaming parcellation against nilearn's, timed and compared in one run.

A BOLD run on the study's grid (91 x 109 x 91 voxels of 2 mm, float32, gzip;
1,300 volumes by default) and an atlas of 400 regions are written to a
temporary folder. The script then measures the wall time and peak resident
memory of:

1. the floor: ISA-L (``isal.igzip``) decompressing the run, nothing else;
2. painflow's :func:`painflow.atlas.volume.region_means` on the run;
3. nilearn's ``NiftiLabelsMasker(strategy="mean")`` on a run of the first
   ``--nilearn-volumes`` volumes (300 by default: nilearn holds the whole
   image in memory, more than once), and painflow on that same run.

It prints painflow's speed-up over nilearn on the same run (goal: at least
5x), its time against the floor (goal: at most 1.5x), its peak memory (goal:
under 1 GB whatever the number of volumes) and the largest difference of
their region means. ``--quick`` runs 40 volumes.

Run: ``.venv/bin/python benchmarks/parcellate.py``
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
from isal import igzip
from nilearn.maskers import NiftiLabelsMasker
from scipy.spatial import cKDTree
from study_scale import measured

from painflow.atlas.niftistream import chunk_bounds, volumes_per_chunk
from painflow.atlas.volume import Atlas, load_atlas, region_means

GRID = (91, 109, 91)
AFFINE = np.array([[-2.0, 0, 0, 90], [0, 2.0, 0, -126], [0, 0, 2.0, -72], [0, 0, 0, 1]])
BRAIN_SEMI_AXES = 0.4  # of each side of the grid: about 240,000 voxels
REGIONS = 400
COMPRESS_LEVEL = 1
WRITE_VOLUMES = 20
GOAL_SPEEDUP = 5
GOAL_FLOOR_RATIO = 1.5
GOAL_GB = 1
QUICK = {"volumes": 40, "nilearn_volumes": 40}


def brain_voxels() -> np.ndarray:
    """Indices, in Fortran order of the grid, of an ellipsoid filling it."""
    grid = np.indices(GRID).reshape(3, -1, order="F").T
    centre = (np.array(GRID) - 1) / 2
    radii = BRAIN_SEMI_AXES * np.array(GRID)
    return np.flatnonzero((((grid - centre) / radii) ** 2).sum(axis=1) <= 1)


def write_atlas(folder: Path, brain: np.ndarray, seed: int) -> tuple[Path, Path]:
    """Split the brain into regions around random centres; write image and table."""
    rng = np.random.default_rng(seed)
    grid = np.indices(GRID).reshape(3, -1, order="F").T[brain]
    centres = grid[rng.choice(brain.size, REGIONS, replace=False)]
    flat = np.zeros(np.prod(GRID), np.int16)
    flat[brain] = cKDTree(centres).query(grid)[1] + 1
    image, table = folder / "atlas_dseg.nii.gz", folder / "atlas_dseg.tsv"
    nib.save(nib.Nifti1Image(flat.reshape(GRID, order="F"), AFFINE), image)
    indices = np.arange(1, REGIONS + 1)
    pd.DataFrame(
        {"index": indices, "name": [f"region{i:03d}" for i in indices]}
    ).to_csv(table, sep="\t", index=False)
    return image, table


def run_header(n_volumes: int) -> nib.Nifti1Header:
    """Header of a float32 run on the grid, volumes right after it."""
    header = nib.Nifti1Header()
    header.set_data_dtype(np.float32)
    header.set_data_shape((*GRID, n_volumes))
    header.set_qform(AFFINE, code="mni")
    header.set_sform(AFFINE, code="mni")
    header.set_data_offset(header.single_vox_offset)
    return header


def write_run(path: Path, brain: np.ndarray, n_volumes: int, seed: int) -> Path:
    """Stream a gzip run to disk: zeros outside the brain, noise around 1000."""
    rng = np.random.default_rng(seed)
    header = run_header(n_volumes)
    volumes = np.zeros((WRITE_VOLUMES, np.prod(GRID)), np.float32)
    with igzip.open(path, "wb", compresslevel=COMPRESS_LEVEL) as stream:
        stream.write(header.binaryblock)
        stream.write(bytes(header.single_vox_offset - len(header.binaryblock)))
        for _, count in chunk_bounds(n_volumes, WRITE_VOLUMES):
            noise = rng.standard_normal((count, brain.size), dtype=np.float32)
            volumes[:count, brain] = 1000 + 10 * noise
            stream.write(volumes[:count])
    return path


def decompress(path: Path) -> int:
    """Decompress a run as painflow reads it, a chunk at a time; return its size."""
    volume_bytes = np.prod(GRID) * np.dtype(np.float32).itemsize
    buffer = bytearray(volumes_per_chunk(volume_bytes) * volume_bytes)
    total = 0
    with igzip.open(path, "rb") as stream:
        while read := stream.readinto(buffer):
            total += read
    return total


def nilearn_means(bold: Path, atlas_image: Path) -> np.ndarray:
    """Region means by nilearn, columns in label order."""
    masker = NiftiLabelsMasker(
        str(atlas_image), strategy="mean", resampling_target=None
    )
    return masker.fit_transform(str(bold))


def parse_arguments() -> argparse.Namespace:
    """Volumes of the run and of nilearn's run, or the quick sizes."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--volumes", type=int, default=1300)
    parser.add_argument("--nilearn-volumes", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="40 volumes")
    arguments = parser.parse_args()
    if arguments.quick:
        vars(arguments).update(QUICK)
    arguments.nilearn_volumes = min(arguments.nilearn_volumes, arguments.volumes)
    return arguments


@dataclass(frozen=True)
class Inputs:
    """The benchmark's files: the run, nilearn's run and the atlas."""

    bold: Path
    small: Path
    atlas_image: Path
    atlas: Atlas


def write_inputs(folder: Path, n: int, m: int, seed: int) -> Inputs:
    """Write the atlas, the run and, when shorter, nilearn's run; describe them."""
    start = time.perf_counter()
    brain = brain_voxels()
    atlas_image, table = write_atlas(folder, brain, seed)
    bold = write_run(folder / "bold.nii.gz", brain, n, seed)
    small = write_run(folder / "first.nii.gz", brain, m, seed) if m < n else bold
    print(
        f"run: {' x '.join(map(str, GRID))} x {n} float32, "
        f"{np.prod(GRID) * 4 * n / 1e9:.2f} GB, "
        f"gzip {bold.stat().st_size / 1e9:.2f} GB; atlas: {REGIONS} regions, "
        f"{brain.size} voxels; nilearn's run: the first {m} volumes "
        f"(all written in {time.perf_counter() - start:.0f} s)"
    )
    return Inputs(bold, small, atlas_image, load_atlas(atlas_image, table))


def run_stages(inputs: Inputs, n: int, m: int) -> tuple[list, np.ndarray, np.ndarray]:
    """Time the floor, painflow and nilearn; return the records and both means."""
    records = []
    measured(f"isal {n}", lambda: decompress(inputs.bold), records)
    ours = measured(
        f"painflow {n}", lambda: region_means(inputs.bold, inputs.atlas), records
    )
    if m < n:
        ours = measured(
            f"painflow {m}", lambda: region_means(inputs.small, inputs.atlas), records
        )
    theirs = measured(
        f"nilearn {m}", lambda: nilearn_means(inputs.small, inputs.atlas_image), records
    )
    return records, ours, theirs


def per_volume(record: tuple, n_volumes: int) -> str:
    """A stage's time per volume, in ms."""
    return f"{1000 * record[1] / n_volumes:.1f} ms per volume"


def print_comparison(records: list, n: int, m: int) -> None:
    """Speed-up, ratio to the floor and peak memory, against the goals."""
    floor, full, same, nilearn = records[0], records[1], records[-2], records[-1]
    print(
        f"painflow {per_volume(full, n)}, nilearn {per_volume(nilearn, m)} "
        f"(floor {per_volume(floor, n)})"
    )
    print(
        f"painflow is {nilearn[1] / same[1]:.1f}x faster than nilearn on the same "
        f"{m} volumes (goal: at least {GOAL_SPEEDUP}x)"
    )
    print(
        f"painflow / decompression floor on {n} volumes: "
        f"{full[1] / floor[1]:.2f}x (goal: at most {GOAL_FLOOR_RATIO}x)"
    )
    print(
        f"peak memory: painflow {full[2]:.2f} GB on {n} volumes, {same[2]:.2f} GB "
        f"on {m}; nilearn {nilearn[2]:.2f} GB on {m} (goal: painflow under "
        f"{GOAL_GB} GB whatever the number of volumes)"
    )


def main() -> None:
    """Write the inputs, run the stages, print the comparison with the goals."""
    arguments = parse_arguments()
    n, m = arguments.volumes, arguments.nilearn_volumes
    with tempfile.TemporaryDirectory(prefix="painflow-parcellate-") as folder:
        inputs = write_inputs(Path(folder), n, m, arguments.seed)
        records, ours, theirs = run_stages(inputs, n, m)
    print_comparison(records, n, m)
    difference = np.abs(ours - theirs)
    print(
        f"largest difference of their region means: {difference.max():.2g} "
        f"(relative {(difference / np.abs(theirs)).max():.2g}; nilearn returns "
        f"float32 means for a float32 image)"
    )


if __name__ == "__main__":
    main()
