"""`sift triage-file` as a backfill: streamed input, resumable output, one process or many Ray workers.

Every path runs the same code on a batch (:func:`engine.backfill.work.triage_rows`, a ``TriageService`` per
process), and one process, the driver, writes the output: results in input order, one JSON line per row
carrying the ticket's id (``ticket_id``), appended and fsync-ed a batch at a time. A restart with the same
``--out`` reads the ids already there and skips them, so a crash anywhere (a worker, the driver) costs at most
the batches in flight and never writes a ticket twice.

- ``rows.py``: the input read lazily, each row given its ticket id (an id column, or row number + content hash).
- ``output.py``: the append-only output and what a restart reads back from it (a torn last line is dropped).
- ``work.py``: one batch of rows through a ``TriageService``: the single code path every runner calls.
- ``driver.py``: the loop: skip what is done, batch, run, write in order, show progress.
- ``on_ray.py``: the runner on a Ray cluster: one actor (one pipeline) per worker, restarted when killed.
"""
