"""Texts of the buy area: key -> (English, Russian)."""

TEXTS: dict[str, tuple[str, str]] = {}
