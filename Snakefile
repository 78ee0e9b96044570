"""painflow: personalized brain decoding of spontaneous pain.

Raw BIDS + fMRIPrep derivatives -> region signals -> edge features ->
nested leave-one-session-out LASSO-PCR (and a head-motion control) -> metrics,
learning curves, prospective and cross-subject tests, the group model against
the personal one, region importance.
"""

from pathlib import Path

from snakemake.utils import min_version, validate

from painflow.workflow.config import check_config, check_required
from painflow.workflow.individual import CROSS_SUBJECT_LEFT_OUT
from painflow.workflow.levels import level_targets
from painflow.inputs.series import SCAN_PATTERN

min_version("9.0")

# The config comes from --configfile alone (config/config.yaml is an example to
# copy); the schema fills every default, then keys are checked against each other.
SCHEMA = "workflow/schemas/config.schema.yaml"
check_required(config, Path(workflow.basedir) / SCHEMA)
validate(config, SCHEMA)
check_config(config)


wildcard_constraints:
    subject="[a-zA-Z0-9]+",
    session="[a-zA-Z0-9]+",
    scan=SCAN_PATTERN,
    train="[a-zA-Z0-9]+",
    test="[a-zA-Z0-9]+",
    size="[0-9]+",


include: "workflow/rules/common.smk"


if STUDY.run_fmriprep:

    include: "workflow/rules/fmriprep.smk"


if STUDY.is_named_atlas:

    include: "workflow/rules/atlas.smk"


if STUDY.individual:

    include: "workflow/rules/parcellation.smk"

    logger.warning(CROSS_SUBJECT_LEFT_OUT)


include: "workflow/rules/dataset.smk"
include: "workflow/rules/signals.smk"
include: "workflow/rules/features.smk"
include: "workflow/rules/qc.smk"
include: "workflow/rules/decoding.smk"
include: "workflow/rules/evaluation.smk"
include: "workflow/rules/crosssubject.smk"
include: "workflow/rules/prospective.smk"
include: "workflow/rules/learningcurve.smk"
include: "workflow/rules/importance.smk"
include: "workflow/rules/nuisance.smk"
include: "workflow/rules/glm.smk"
include: "workflow/rules/groupmodel.smk"
include: "workflow/rules/predict.smk"
include: "workflow/rules/plan.smk"


if STUDY.rest_test:

    include: "workflow/rules/resttest.smk"


rule all:
    input:
        STUDY.targets(),


# The BIDS App's analysis levels (painflow run): each person's own outputs,
# then those that need every person; the two together are rule all.
rule participant:
    input:
        level_targets(STUDY, "participant"),


rule group:
    input:
        level_targets(STUDY, "group"),
