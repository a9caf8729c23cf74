"""Front ends over the interview loop: terminal chat, --jsonl, web."""
