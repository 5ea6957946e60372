"""Texts of the history area: key -> (English, Russian)."""

TEXTS: dict[str, tuple[str, str]] = {}
