rule glm_session:
    """First-level GLM of a session's rating runs: the effect map of the HRF-convolved ratings."""
    input:
        unpack(glm_session_files),
    output:
        effect=session_map(STUDY),
        sidecar=session_map(STUDY, json=True),
    log:
        session_record(STUDY, "logs", "log", ".txt"),
    benchmark:
        session_record(STUDY, "benchmarks", "bench", ".tsv")
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 4000 * attempt,
        runtime=lambda wildcards, attempt: 60 * attempt,
    params:
        runs=glm_session_labels("runs"),
        trs=glm_session_labels("trs"),
        denoise=config["denoise"],
        alignment=config["alignment"],
        rating_column=config["ratings"]["column"],
        glm=config["glm"],
        surfaces=glm_subject_surfaces,
    script:
        "../../scripts/glm_session.py"


rule glm:
    """One-sample t of the session effect maps, FDR-thresholded, summarized per network."""
    input:
        unpack(glm_files),
    output:
        **glm_outputs(STUDY),
        figure=report(
            STUDY.figure("glm"),
            caption="../report/glm.rst",
            category="Univariate maps",
            subcategory="sub-{subject}",
            labels={"subject": "{subject}", "figure": "t map, FDR"},
        ),
    log:
        STUDY.log("glm", level="subject"),
    benchmark:
        STUDY.benchmark("glm", level="subject")
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 4000 * attempt,
        runtime=lambda wildcards, attempt: 30 * attempt,
    params:
        glm=config["glm"],
        atlas_subcortex=STUDY.subcortex,
        surfaces=glm_subject_surfaces,
    script:
        "../../scripts/glm.py"
