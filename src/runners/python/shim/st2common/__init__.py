"""Squall's compatibility shim for StackStorm Python actions (a small subset of st2common)."""
