"""``from st2reactor.sensor.base import Sensor, PollingSensor`` for sensors written for StackStorm.

Same class names, constructor arguments and methods as st2 (st2-reference.md §3.3); the sensor
service they receive talks to Squall over the channel set up by ``squall_sensor``.
"""

import abc
import time

__all__ = ["Sensor", "PollingSensor", "BaseSensor"]


class BaseSensor(object):
    __metaclass__ = abc.ABCMeta

    def __init__(self, sensor_service, config=None):
        self._sensor_service = sensor_service
        self.sensor_service = sensor_service
        self._config = config or {}
        self.config = self._config

    def setup(self):
        pass

    def run(self):
        raise NotImplementedError("%s must implement run()" % self.__class__.__name__)

    def cleanup(self):
        pass

    def add_trigger(self, trigger):
        pass

    def update_trigger(self, trigger):
        pass

    def remove_trigger(self, trigger):
        pass


class Sensor(BaseSensor):
    """A sensor that runs its own loop in run() (st2 "active" sensor)."""


class PollingSensor(BaseSensor):
    """A sensor whose poll() is called every poll_interval seconds."""

    def __init__(self, sensor_service, config=None, poll_interval=5):
        super(PollingSensor, self).__init__(sensor_service=sensor_service, config=config)
        self._poll_interval = poll_interval

    def poll(self):
        raise NotImplementedError("%s must implement poll()" % self.__class__.__name__)

    def run(self):
        while True:
            self.poll()
            time.sleep(self._poll_interval)

    def get_poll_interval(self):
        return self._poll_interval

    def set_poll_interval(self, poll_interval):
        self._poll_interval = poll_interval
