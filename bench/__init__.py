"""Benchmarks: scripts that print figures beside their references (run as `python bench/NAME.py`)."""
