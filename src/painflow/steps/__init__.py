"""The workflow's steps as functions of paths and config values.

Each step reads its inputs, calls the library and writes its outputs
atomically; the scripts that Snakemake runs only unpack ``snakemake.input``,
``snakemake.output`` and ``snakemake.params`` into these calls. One module
per stage, so that a job imports only what its stage needs.
"""
