"""The benchmark suite behind `scenefit bench`."""

from ._suite import BenchConfig, run_suite

__all__ = ["BenchConfig", "run_suite"]
