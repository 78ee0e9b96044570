"""Region signals: confounds, censoring, ratings, extraction, edges, QC."""
