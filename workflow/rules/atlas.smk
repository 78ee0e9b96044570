localrules:
    named_atlas,


rule named_atlas:
    """Write the named atlas (config atlas.image null) fit to the data's grid or mesh."""
    input:
        reference=STUDY.atlas_reference(),
    output:
        **STUDY.named_atlas_files(),
    log:
        STUDY.log("named_atlas", level="group"),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        name=config["atlas"]["name"],
        cache_dir=config["atlas"]["cache_dir"],
    script:
        "../../scripts/named_atlas.py"
