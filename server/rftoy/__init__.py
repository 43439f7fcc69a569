"""rftoy: a Rectified Flow playground."""

__version__ = "0.1.0"
