"""The workflow's steps as functions of paths and config values.

One name per step across layers: rule ``X`` in ``workflow/rules/<area>.smk``
runs ``scripts/X.py``, which unpacks ``snakemake.input``, ``snakemake.output``
and ``snakemake.params`` into one call of ``painflow.steps.<area>.X``. Each
step reads its inputs, calls the library and writes its outputs atomically.
Steps never import other steps: code that two steps share belongs to the
library.
"""
