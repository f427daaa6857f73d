"""st2common.services."""
