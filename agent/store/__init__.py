"""SQLite storage: sessions, turns, profile versions, runs."""
