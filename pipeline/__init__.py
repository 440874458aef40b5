"""Wayfinder: a video asset pipeline for patient-navigation videos.

The package is a library first; `pipeline.cli` is a thin Typer shell over it.
"""

__version__ = "0.1.0"
