"""Helper package for the *Robustness, Explained* notebook series.

Modules by topic: :mod:`helpers.data`, :mod:`helpers.models`, :mod:`helpers.attacks`,
:mod:`helpers.training`, :mod:`helpers.evaluation`, :mod:`helpers.traversal`,
:mod:`helpers.plotting`, :mod:`helpers.widgets`. Importing the package has no side effects:
import the module you need (``from helpers.attacks import pgd``).
"""

__version__ = "0.1.0"
