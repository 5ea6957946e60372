"""Texts of the keys area: key -> (English, Russian)."""

TEXTS: dict[str, tuple[str, str]] = {}
