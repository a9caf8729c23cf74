"""Reliability suite (issue 7): durability under SIGKILL, atomic writes, concurrent processes,
hostile and damaged input, parser fuzzing and secrets. The figures print at the end of a run."""
