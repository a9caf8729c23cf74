"""The ICP profile: pydantic models and drift between versions."""
