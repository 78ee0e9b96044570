"""Decoding models: the estimator, its dual engine, cross-validation, loading."""
