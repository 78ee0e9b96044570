localrules:
    named_atlas,


rule named_atlas:
    """Write the named atlas (config atlas.image null) fit to the data's grid or mesh."""
    input:
        reference=atlas_reference(),
    output:
        image=NAMED_ATLAS["image"],
        labels=NAMED_ATLAS["labels"],
        description=NAMED_ATLAS["description"],
    log:
        str(OUT / "logs" / "named_atlas.log"),
    conda:
        "../../envs/painflow.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        name=ATLAS,
    script:
        "../../scripts/named_atlas.py"
