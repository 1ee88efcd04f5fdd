"""motte: unmodified Linux programs in picoprocesses served by a Python library OS."""

__version__ = "0.1.0"
