"""Benchmarks run by ``make bench`` (``python -m bench``); figures, never
pass or fail. Each module listed in ``bench.__main__.MODULES`` has a
``main()`` that prints what it measured."""
