"""The report: summary, context, Jinja2 templates, WeasyPrint."""
