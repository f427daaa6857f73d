"""st2common.constants: the names StackStorm packs import, with st2's values."""
