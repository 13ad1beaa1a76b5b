"""Repositories: the only code that knows table layouts (see tables.py for the single-table design)."""
