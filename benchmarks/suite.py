"""The benchmark suite of issue 5: the same as `scenefit bench` (options pass through).

    python benchmarks/suite.py --smoke
    python benchmarks/suite.py --real-index .scenefit/eval-ikea-dev

The code lives in `src/scenefit/bench/` so that the installed command can run it; results
and what bounds them: docs/performance.md.
"""

import sys

from scenefit.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
