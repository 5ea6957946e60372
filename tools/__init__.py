"""Developer tools that are not part of the bot (screenshots of the playground)."""
