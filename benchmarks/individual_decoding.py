"""The decoder on a person's own parcels against the decoder on a group atlas.

A simulated person whose cortex has parcels of their own (shifted from a
group template, ``painflow simulate --cifti --individual``) feels pain that
couples some of their own parcels. The workflow runs twice on the same data,
up to the evaluation: with ``atlas: individual`` (the parcels found from the
person's rest runs) and with the group template the person's parcels were
drawn from. The script prints each decoder's r at every scale and the
difference, individual minus template; the study found the individual atlas
better. ``--quick`` runs a smaller study (a check that the script works,
too small for the decoders to track pain).

Run: ``.venv/bin/python benchmarks/individual_decoding.py``
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import yaml

from painflow.core.fileio import read_json, read_tsv
from painflow.simulation.parameters import IndividualParameters, SimulationParameters
from painflow.simulation.study import simulate_study

REPO = Path(__file__).resolve().parents[1]
SIZES = {
    "full": {"n_sessions": 8, "n_runs": 2, "n_volumes": 300, "rest": 150},
    "quick": {"n_sessions": 3, "n_runs": 1, "n_volumes": 60, "rest": 120},
}


def simulate(root: Path, size: dict) -> Path:
    """One person with individual topography and a clear pain signal."""
    study = root / "data"
    simulate_study(
        study,
        n_subjects=1,
        n_sessions=size["n_sessions"],
        n_runs=size["n_runs"],
        n_volumes=size["n_volumes"],
        seed=1,
        parameters=SimulationParameters(signal_gain=2.5),
        cifti=True,
        individual=IndividualParameters(n_rest_volumes=size["rest"]),
    )
    return study


def config(study: Path, output: Path, atlas: dict) -> dict:
    """The study's grayordinates, cortex only, with light settings."""
    return {
        "bids_dir": str(study),
        "fmriprep_dir": str(study / "derivatives" / "fmriprep"),
        "output_dir": str(output),
        "space": "fsLR",
        "res": None,
        "den": "91k",
        "atlas": {**atlas, "subcortex": "none"},
        "individual": {"similarity_stride": 20, "infomap_trials": 2},
        "evaluation": {"n_bootstrap": 1000},
        "prospective": {"train_sessions": 2},
    }


def decode(study: Path, root: Path, name: str, atlas: dict) -> pd.Series:
    """Run the workflow up to the evaluation; the r of each scale."""
    work = root / name
    work.mkdir()
    config_file = work / "config.yaml"
    config_file.write_text(yaml.safe_dump(config(study, work / "out", atlas)))
    command = [
        sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
        "--directory", str(work), "--configfile", str(config_file), "--cores", "2",
        "--until", "evaluate",
    ]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True)
    metrics = read_tsv(
        work / "out" / "sub-01" / "decoding" / f"sub-01_atlas-{name}_metrics.tsv"
    )
    return metrics[metrics["metric"] == "r"].set_index("scale")["estimate"]


def main() -> None:
    """Simulate, decode with both atlases, print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smaller study")
    size = SIZES["quick" if parser.parse_args().quick else "full"]
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        study = simulate(root, size)
        template = read_json(study / "ground_truth.json")["individual"]["template"]
        atlases = {
            "individual": {"name": "individual", "image": None, "labels": None},
            "template": {
                "name": "template",
                "image": str(study / template["image"]),
                "labels": str(study / template["labels"]),
            },
        }
        r = pd.DataFrame(
            {name: decode(study, root, name, atlas) for name, atlas in atlases.items()}
        )
    r["individual_minus_template"] = r["individual"] - r["template"]
    print(f"one person, {size}: decoder r by scale")
    print(r.to_string(float_format="%.3f"))


if __name__ == "__main__":
    main()
