"""Lineage reasoning in pure Python (numpy, no rdflib): the highest level flows downstream.

:mod:`kg.lineage.core` propagates levels over arrays; :mod:`kg.lineage.model` builds those
arrays from plain facts about datasets, elements and derivations.
"""

from kg.lineage.core import NO_CAP, LineageGraph, LineageIndex, Propagation, propagate

__all__ = ["NO_CAP", "LineageGraph", "LineageIndex", "Propagation", "propagate"]
