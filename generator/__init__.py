"""Seeded simulation of a study's partner files, with known true effects (`hhp generate`)."""

from generator.run import generate

__all__ = ["generate"]
