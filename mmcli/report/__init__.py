"""Evaluation reports: PNG plots (matplotlib, imported lazily) and a Markdown page."""
