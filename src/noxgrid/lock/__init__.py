"""Locking cells with uv: resolve, size, judge, export to PEP 751, seal, write."""
