"""The few st2common names st2's orquesta wiring tests import, so they run against Squall."""
