"""The command line: a thin Typer app over :class:`scenefit.Engine`; rendering lives beside it."""

from ._app import app, main

__all__ = ["app", "main"]
