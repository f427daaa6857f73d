"""``st2common.util.isotime``: ISO 8601 text for datetimes, as st2 writes it."""

import datetime
import re

import dateutil.tz

from st2common.util import date as date_utils

__all__ = ["format", "validate", "parse"]

ISO8601_FORMAT = "%Y-%m-%dT%H:%M:%S"
ISO8601_FORMAT_MICROSECOND = "%Y-%m-%dT%H:%M:%S.%f"
ISO8601_UTC_REGEX = r"^\d{4}\-\d{2}\-\d{2}(\s|T)\d{2}:\d{2}:\d{2}(\.\d{3,6})?(Z|\+00|\+0000|\+00:00)$"


def format(dt, usec=True, offset=True):  # noqa: A001 - st2's name
    if isinstance(dt, str):
        dt = parse(dt)
    elif isinstance(dt, int):
        dt = datetime.datetime.fromtimestamp(dt, dateutil.tz.tzutc())
    text = dt.strftime(ISO8601_FORMAT_MICROSECOND if usec else ISO8601_FORMAT)
    if offset:
        zone = dt.strftime("%z")
        return text + ((zone[:3] + ":" + zone[3:]) if zone else "+00:00")
    name = dt.tzinfo.tzname(dt) if dt.tzinfo else "UTC"
    return text + ("Z" if name == "UTC" else name)


def validate(value, raise_exception=True):
    if isinstance(value, datetime.datetime) or (isinstance(value, str) and re.match(ISO8601_UTC_REGEX, value)):
        return True
    if raise_exception:
        raise ValueError("Datetime value does not match expected format.")
    return False


def parse(value, preserve_original_tz=False, validate_value=True):
    if validate_value:
        validate(value, raise_exception=True)
    return date_utils.parse(value=value, preserve_original_tz=preserve_original_tz)
