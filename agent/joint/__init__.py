"""Joint profiles: merging respondents, naming their conflicts."""
