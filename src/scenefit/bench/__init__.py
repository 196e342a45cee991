"""The benchmark suite behind `scenefit bench`."""

from ._suite import SECTIONS, BenchConfig, run_suite

__all__ = ["BenchConfig", "SECTIONS", "run_suite"]
