"""The simulator is an outside fleet: households and appliances with usage, faults and
ground truth, publishing over MQTT. It knows the protocol and the models, nothing else.

Public surface: `plan` (draw a scenario), `Traffic` (its messages), `pre_encode` (all messages
as (topic, payload) for benchmarks), `FleetPublisher` (QoS 1 publishing, paced),
`write_ground_truth` / `read_ground_truth`, and `window_ending_now` (the run's time base);
`simulator.readings.fleet`: a fleet's readings in columns, the load of the rules bench and of
the evaluator's tests.
"""

from simulator.groundtruth import read_ground_truth, write_ground_truth
from simulator.plan import Scenario, Shard, plan
from simulator.publisher import FleetPublisher, Pace
from simulator.timebase import Window, max_past_age_s, window_ending_now
from simulator.traffic import Message, Traffic, pre_encode

__all__ = [
    "FleetPublisher", "Message", "Pace", "Scenario", "Shard", "Traffic", "Window",
    "max_past_age_s", "plan", "pre_encode", "read_ground_truth", "window_ending_now",
    "write_ground_truth",
]
