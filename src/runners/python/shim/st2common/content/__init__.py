"""st2common.content."""
