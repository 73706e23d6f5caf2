"""Shared pieces with no model in them: errors, provenance, files, survival statistics, outcome declarations."""
