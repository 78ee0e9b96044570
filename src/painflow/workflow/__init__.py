"""The workflow's Python side: config defaults and checks the Snakefile calls."""
