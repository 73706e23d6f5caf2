"""Number formats, figures and documents (Markdown, HTML) from results and statistics. Never runs the model."""
