"""What the client's features (design sessions, dataset builds, benchmarks, the studio) share.

* :mod:`.work`: a bounded asyncio work pool and the step-level retry rule.
* :mod:`.progress`: the one progress protocol every long operation reports to, and its rich bar.
* :mod:`.jsonl`: the append-only, fsync-ed JSONL log that records finished results.
* :mod:`.dataset_folder`: reading and writing a FashionEdit dataset folder.

Crash-safe single-file writes live in :mod:`fashionedit.contracts.files` (the services use them too).
"""
