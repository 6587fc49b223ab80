"""jtt: a keyboard-driven terminal time tracker for Jira tickets."""

__version__ = "0.1.0"
