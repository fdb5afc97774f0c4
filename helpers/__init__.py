"""Helper package for the *Robustness, Explained* notebook series.

One concern per module (``docs/architecture.md`` has the map): :mod:`helpers.validation`,
:mod:`helpers.data`, :mod:`helpers.models`, :mod:`helpers.norms`, :mod:`helpers.attacks`,
:mod:`helpers.speedups`, :mod:`helpers.apgd`, :mod:`helpers.evaluation`, :mod:`helpers.training`,
:mod:`helpers.fast_training`, :mod:`helpers.distributed`, :mod:`helpers.train`,
:mod:`helpers.traversal`, :mod:`helpers.judging`, :mod:`helpers.drawing`, :mod:`helpers.plotting`,
:mod:`helpers.widgets`, :mod:`helpers.canvas`, :mod:`helpers.environment`, :mod:`helpers.reports`.
Importing the package has no side effects: import the module you need
(``from helpers.attacks import pgd``).
"""

__version__ = "0.1.0"
