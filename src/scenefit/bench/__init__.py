"""The benchmark suite behind `scenefit bench` (and `benchmarks/suite.py`)."""

from ._suite import BenchConfig, run_suite

__all__ = ["BenchConfig", "run_suite"]
