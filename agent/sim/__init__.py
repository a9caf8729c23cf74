"""Simulated respondents: the demo and the interview evaluation."""
