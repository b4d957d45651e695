"""Building blocks of the final cut: output profiles, end cards and captions, the soundtrack."""
