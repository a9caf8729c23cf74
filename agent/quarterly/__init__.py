"""Quarterly re-runs: transcripts, import, re-extraction, batch."""
