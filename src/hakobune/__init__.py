"""Hakobune: WordPress and PHP/LAMP sites as loosely coupled container stacks."""

__version__ = "0.7.0"
