"""Scoring: rules, the rubric a profile implies, disqualifiers, accounts."""
