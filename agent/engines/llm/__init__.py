"""The model engine (LangChain): client, errors, messages, usage, doctor."""
