def monkey_patch():
    """st2 patches eventlet here; the wiring tests only talk HTTP, so there is nothing to patch."""
