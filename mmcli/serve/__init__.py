"""``mmcli serve``: a bundle behind an HTTP JSON service (FastAPI + uvicorn, imported lazily).

A request's rows go through the same row path as ``mmcli predict`` (JSON rows become a JSON
Lines table read by :mod:`mmcli.io.tables`, then :func:`mmcli.data.rows.iter_rows`), so a
record is the record predict writes for the same row. One worker thread owns the model and
runs micro-batches (:mod:`mmcli.serve.batching`) through an :class:`~mmcli.serve.engine.Engine`,
the one place that predicts rows.

Modules: ``settings`` (the limits), ``requests`` (bodies -> validated rows, 4xx errors),
``files`` (uploaded images/audio checked and spooled), ``prepare`` (rows -> decoded rows and
records), ``engine``, ``batching``, ``service`` (the parts together, no HTTP), ``app`` (the
FastAPI routes), ``server`` (binding, signals, shutdown).
"""
