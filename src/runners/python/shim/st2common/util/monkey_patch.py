"""``st2common.util.monkey_patch``: eventlet's patching, as st2's services and sensors do it."""


def monkey_patch(patch_thread=None):
    try:
        import eventlet
    except ImportError:
        # Only processes given the st2 runtime site have eventlet; without it there is nothing
        # to patch (the st2 wiring tests, for instance, only talk HTTP).
        return
    eventlet.monkey_patch(
        os=True, select=True, socket=True, thread=True if patch_thread is None else patch_thread, time=True
    )
