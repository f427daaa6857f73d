"""st2common.util: the helpers StackStorm packs import (written for Squall, behaving as st2's)."""
