"""byok: bring-your-own-key LLM credentials."""

__version__ = "0.1.0"
