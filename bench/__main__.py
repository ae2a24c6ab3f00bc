"""``python -m bench [NAME ...]``: run every benchmark, or those named."""

from __future__ import annotations

import importlib
import sys

# Benchmark modules under bench/, each with a main() that prints its figures.
MODULES = ["evidence", "exporter", "rules"]


def main(names: list[str]) -> int:
    unknown = sorted(set(names) - set(MODULES))
    if unknown:
        print(f"unknown benchmark {', '.join(unknown)}; one of {', '.join(MODULES)}")
        return 2
    for name in names or MODULES:
        importlib.import_module(f"bench.{name}").main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
