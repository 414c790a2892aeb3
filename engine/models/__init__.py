"""The only package that opens weight files: encoders, heads, detectors, spaCy pipelines."""
