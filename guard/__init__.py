"""guard: a runtime guard for deployed language models."""

__version__ = "0.1.0"
