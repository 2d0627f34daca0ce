"""Ownership overlay for _random: the C base of random.Random.
"""

from typing import Self

from fearless import Borrowed, MutBorrowed


class Random:
    """The C base of random.Random: random() and getrandbits() are declared here."""

    def __init__(self: MutBorrowed[Self], seed=..., /): ...  # seeds it again
    def seed(self: MutBorrowed[Self], n=..., /): ...
    def getstate(self: Borrowed[Self]): ...  # a snapshot
    def setstate(self: MutBorrowed[Self], state, /): ...
    def random(self: MutBorrowed[Self]): ...
    def getrandbits(self: MutBorrowed[Self], k, /): ...
