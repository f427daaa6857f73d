"""st2common.models."""
