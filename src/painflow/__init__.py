"""painflow: personalized brain decoding of spontaneous pain."""

__version__ = "0.1.0"
