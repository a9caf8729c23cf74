"""`icp serve`: the browser chat (Starlette)."""
