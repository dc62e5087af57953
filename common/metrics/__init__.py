"""Prometheus metrics that live in Redis, so every process (web, workers, beat) adds to the same series.

The web's ``/metrics`` (backoffice/metrics/view.py) reads them at scrape time; nothing here imports an app.
"""
