"""Texts of the groups area: key -> (English, Russian)."""

TEXTS: dict[str, tuple[str, str]] = {}
