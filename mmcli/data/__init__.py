"""Data preparation: cleaning, roles, rows and datasets built from tables."""
