"""Texts of the settings area: key -> (English, Russian)."""

TEXTS: dict[str, tuple[str, str]] = {}
