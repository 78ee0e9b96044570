"""``painflow predict``: score a new session with a person's saved model.

The session's runs are found in the fMRIPrep folder, turned into features by
the workflow's own steps (``extract_signals``, ``edge_features``, with the
settings the model records) and scored by the step ``predict``, so the
numbers are those the workflow gives the same session.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from painflow.model.metadata import (
    ATLAS_FILES,
    atlas_checksums,
    check_model_fits,
    check_repetition_times,
    read_model,
)


def add_predict(subcommands) -> None:
    """Add the ``predict`` subcommand."""
    parser = subcommands.add_parser(
        "predict",
        help="score a new session with a saved model",
        description="Apply a person's saved model (a *_model.npz the workflow "
        "wrote) to one session's fMRIPrep outputs, without retraining: "
        "per-volume and per-time-bin predicted pain with prediction intervals, "
        "a figure, and metrics when the session has ratings (--bids-dir).",
    )
    parser.add_argument("model", metavar="MODEL.npz", help="the saved model")
    parser.add_argument(
        "--fmriprep-dir", required=True, metavar="DIR", help="fMRIPrep's outputs"
    )
    parser.add_argument(
        "--subject", required=True, metavar="LABEL", help="whose session (no sub-)"
    )
    parser.add_argument(
        "--session", required=True, metavar="LABEL", help="the session (no ses-)"
    )
    parser.add_argument("--output", default=".", metavar="DIR", help="output folder")
    parser.add_argument(
        "--bids-dir", metavar="DIR", help="raw BIDS dataset with the session's ratings"
    )
    for kind in ATLAS_FILES:
        parser.add_argument(
            f"--atlas-{kind}",
            metavar="FILE",
            help=f"the model's atlas {kind} (default: where the model records it, "
            "relative to the workflow output folder holding the model)",
        )
    for entity in ("space", "res", "den"):
        parser.add_argument(
            f"--{entity}",
            metavar="LABEL",
            help=f"{entity} entity of the data (default: the model's; giving any "
            "of --space, --res, --den replaces all three)",
        )
    parser.add_argument(
        "--level", type=float, metavar="P", help="interval coverage (default: model's)"
    )
    parser.add_argument(
        "--allow-other-person",
        action="store_true",
        help="apply a model of another person (it is refused otherwise)",
    )
    parser.set_defaults(handler=run_predict)


def run_predict(args: argparse.Namespace) -> None:
    """Check the model against the session, extract, predict and write.

    Raises
    ------
    ValueError
        Naming the file and the problem: a missing file, or a model that
        does not fit the session (:func:`painflow.model.metadata.check_model_fits`).
    """
    try:
        _predict_session(args)
    except FileNotFoundError as error:
        raise ValueError(str(error)) from error


def _predict_session(args: argparse.Namespace) -> None:
    """:func:`run_predict` without the translation of missing files."""
    # Imported here so that other subcommands do not pay for nilearn's import.
    from painflow.core.bids import file_key
    from painflow.inputs.dataset import DatasetSpec, session_runs
    from painflow.steps.predict import predict
    from painflow.workflow.predict import predict_paths

    _, record = read_model(args.model)
    atlas = model_atlas(args.model, record, vars(args))
    space = data_space(args, record)
    check_model_fits(
        record,
        args.model,
        args.subject,
        atlas_checksums(atlas),
        space,
        args.allow_other_person,
    )
    fmriprep_dir = Path(args.fmriprep_dir)
    spec = DatasetSpec(
        bids_dir=Path(args.bids_dir) if args.bids_dir else fmriprep_dir,
        fmriprep_dir=fmriprep_dir,
        task=record["task"],
        bold_filters=record.get("bold_filters", {}),
        recording=record["rating_recording"],
        subjects=(args.subject,),
        check_derivatives=True,
        **space,
    )
    runs = session_runs(spec, args.subject, args.session)
    check_repetition_times(record, args.model, runs["tr"].tolist())
    features, qc_files = extract_session(runs, args, record, atlas)
    outputs = predict_paths(
        args.output, args.subject, args.session, record["atlas"]["name"]
    )
    predict(
        model=args.model,
        features=features,
        qc_files=qc_files,
        units={
            file_key(path): {"session": args.session, "run": run}
            for run, *paths in zip(runs["run_id"], features, qc_files, strict=True)
            for path in paths
        },
        level=args.level,
        title=f"sub-{args.subject} ses-{args.session}",
        predictions_out=outputs["predictions"],
        timebins_out=outputs["timebins"],
        figure_out=outputs["figure"],
        metrics_out=outputs["metrics"] if args.bids_dir else None,
    )
    print(f"painflow predict: wrote {Path(outputs['predictions']).parent}")


def data_space(args: argparse.Namespace, record: dict) -> dict:
    """The data's ``space``, ``res``, ``den``: the model's unless any is given.

    Given entities replace all three (those not given are None), so that
    ``--space fsLR --den 91k`` names grayordinates without a ``res``.
    """
    keys = ("space", "res", "den")
    if any(getattr(args, key) for key in keys):
        return {key: getattr(args, key) or None for key in keys}
    return {key: record["space"][key] for key in keys}


def model_atlas(model: str, record: dict, given: dict) -> dict:
    """The atlas files to parcellate with: given ones, else where the model says.

    Parameters
    ----------
    model : str
        The model file.
    record : dict
        Its record.
    given : dict
        ``atlas_<kind>`` to a file given on the command line (None: not given).

    Returns
    -------
    dict
        ``atlas_<kind>`` to a file, or None where the model's atlas has none.

    Raises
    ------
    FileNotFoundError
        When a file the model's atlas has is neither given nor found.
    """
    recorded = record["atlas"]
    files = {}
    for kind in ATLAS_FILES:
        key = f"atlas_{kind}"
        if given.get(key) or not recorded.get(f"{kind}_sha256"):
            files[key] = given.get(key)
            continue
        found = _recorded_file(model, recorded[kind])
        if found is None:
            raise FileNotFoundError(
                f"{model}: the model's atlas {kind} '{recorded[kind]}' is not in "
                f"the workflow output folder holding the model; give --atlas-{kind}"
            )
        files[key] = str(found)
    return files


def _recorded_file(model: str, location: str) -> Path | None:
    """A file recorded relative to the output folder above the model's sub-*."""
    from painflow.workflow.study import derivatives_root

    try:
        root = Path(derivatives_root(str(Path(model).resolve())))
    except StopIteration:  # the model is outside a workflow's output folder
        return None
    path = root / location
    return path if path.is_file() else None


def extract_session(
    runs, args: argparse.Namespace, record: dict, atlas: dict
) -> tuple[list[str], list[str]]:
    """Run the workflow's extraction steps on each run; its features and QC files."""
    from painflow.core.bids import bids_path
    from painflow.steps.features import edge_features
    from painflow.steps.signals import extract_signals

    subcortex = atlas["atlas_subcortex"] or record["atlas"]["subcortex"]
    features, qc_files = [], []
    for row in runs.itertuples():
        entities = {
            "subject": args.subject,
            "session": args.session,
            "scan": row.scan,
            "atlas": record["atlas"]["name"],
        }
        name = {
            suffix: str(bids_path(args.output, entities, suffix, extension))
            for suffix, extension in (("timeseries", ".tsv"), ("edges", ".npz"))
        }
        qc = name["timeseries"].removesuffix(".tsv") + ".json"
        extract_signals(
            bold=str(row.bold),
            confounds=str(row.confounds),
            ratings=str(row.ratings) if row.ratings is not None else None,
            atlas_image=atlas["atlas_image"],
            atlas_labels=atlas["atlas_labels"],
            atlas_subcortex=str(subcortex),
            tr=float(row.tr),
            denoise=record["denoise"],
            alignment=record["alignment"],
            rating_column=record["rating_column"],
            timeseries_out=name["timeseries"],
            qc_out=qc,
        )
        edge_features(name["timeseries"], qc, record["features"], name["edges"])
        features.append(name["edges"])
        qc_files.append(qc)
    return features, qc_files
