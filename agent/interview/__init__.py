"""The interview: guide, planner, the answer pipeline, the loop, recovery."""
