"""The package version, in one place (engine, API and index manifests read it)."""

__version__ = "0.7.0"
