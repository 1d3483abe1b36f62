"""cardfile: a self-hostable records server with one update engine and many dialects."""

__version__ = "0.1.0"
