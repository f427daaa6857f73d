"""``st2common.util.date``: time-zone aware datetimes in UTC."""

import datetime

import dateutil.parser
import dateutil.tz

__all__ = ["get_datetime_utc_now", "add_utc_tz", "convert_to_utc", "parse", "append_milliseconds_to_time"]


def get_datetime_utc_now():
    return add_utc_tz(datetime.datetime.utcnow())


def append_milliseconds_to_time(date, millis):
    return date + datetime.timedelta(milliseconds=millis)


def add_utc_tz(dt):
    if dt.tzinfo and dt.tzinfo.utcoffset(dt) != datetime.timedelta(0):
        raise ValueError("datetime already contains a non UTC timezone")
    return dt.replace(tzinfo=dateutil.tz.tzutc())


def convert_to_utc(dt):
    """A naive datetime is taken to be in UTC already."""
    if not dt.tzinfo:
        return add_utc_tz(dt)
    return dt.astimezone(dateutil.tz.tzutc())


def parse(value, preserve_original_tz=False):
    dt = dateutil.parser.parse(str(value))
    if not dt.tzinfo:
        dt = add_utc_tz(dt)
    if not preserve_original_tz:
        dt = convert_to_utc(dt)
    return dt
