"""Squall's stand-in for StackStorm's st2reactor package (sensors only)."""
