"""Analyses of fitted models: metrics, learning curves, prospective tests."""
