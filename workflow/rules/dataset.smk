localrules:
    describe_dataset,


rule describe_dataset:
    """Describe the output folder (BIDS derivatives) and the sessions' scan order."""
    output:
        description=STUDY.dataset_description,
        scan_order=report(
            STUDY.scan_order_file,
            caption="../report/scanorder.rst",
            category="Dataset",
            labels={"item": "scan order"},
        ),
    log:
        STUDY.log("describe_dataset", level="group"),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        bids_dir=config["bids_dir"],
        fmriprep_dir=str(STUDY.fmriprep_dir),
        scan_order=STUDY.scan_order.to_dict("records"),
        fmriprep_run=config["fmriprep"] if STUDY.run_fmriprep else None,
    script:
        "../../scripts/describe_dataset.py"
