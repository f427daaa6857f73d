"""``from st2common import log as logging``: the standard logging module with st2's AUDIT level."""

import logging
from logging import *  # noqa: F401,F403

AUDIT = logging.CRITICAL + 10
logging.addLevelName(AUDIT, "AUDIT")


def getLogger(name):  # noqa: N802 - st2's name
    return logging.getLogger(name)
