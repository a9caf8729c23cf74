"""icp: a conversational interview agent that writes an evidence-backed Ideal Customer Profile."""

__version__ = "0.1.0"
