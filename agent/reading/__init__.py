"""Reading an answer: statements, quantities, terms, sections, quote-back."""
