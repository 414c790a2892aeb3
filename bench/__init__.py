"""Speed benchmark: Sift against a naive one-model-call-per-stage peer, in one run on one machine.

Reads the public data sets in ``../shared/datasets`` (benchmark input only; nothing here ships with the product).
Run ``.venv/bin/python -m bench.throughput --help``; see ``bench/README.md``.
"""
