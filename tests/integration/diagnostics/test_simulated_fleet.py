"""A simulated fleet publishing its traffic while its appliances answer commands, through
Mosquitto with the generated files (what `fixahead simulate` does with the responder on)."""

from __future__ import annotations

import json
import threading
import time

import pytest

from devices.diagnostics import State
from devices.provisioning import register
from fixahead.broker_auth import PLATFORM, write_auth_files
from simulator.commands import publish_answering
from simulator.run import RunSpec, scenario_for
from simulator.timebase import window_ending_now
from tests.support.diagnostics import (
    PREFIX,
    Setup,
    request,
    wait_state,
)
from tests.support.services import mosquitto_binary

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(mosquitto_binary() is None,
                       reason="needs Mosquitto: apt-get install mosquitto"),
]


def test_a_publishing_fleet_answers_a_snapshot_request(setup: Setup) -> None:
    speed = 40.0
    window = window_ending_now(0.003, speed, int(time.time() * 1000))  # ~6.5 s of wall time
    platform = json.loads((setup.broker.workdir / "service-accounts.json").read_text())[PLATFORM]
    # readings go on the platform account; each device answers on its own connection
    spec = RunSpec(households=2, window=window, seed=5, speed=speed, prefix=PREFIX, tag="fxd",
                   url=f"mqtt://{PLATFORM}:{platform}@127.0.0.1:{setup.broker.port}")
    scenario = scenario_for(spec)
    with setup.conn() as conn:
        secrets = {d.device_id: register(conn, model_id=d.model_id, device_id=d.device_id,
                                         actor="test")[1] for d in scenario.devices}
        write_auth_files(conn, setup.broker.workdir)
    setup.broker.reload()
    target = scenario.devices[0]
    ran = threading.Thread(target=publish_answering, args=(spec, scenario),
                           kwargs={"credentials": secrets}, daemon=True)
    ran.start()
    deadline = time.monotonic() + 10
    while not setup.link.online.get(target.device_id) and time.monotonic() < deadline:
        time.sleep(0.05)
    req = request(setup, target.device_id)
    done = wait_state(setup, req.request_id, State.ANSWERED)
    ran.join(30)
    assert done.state is State.ANSWERED and done.result is not None
    assert done.result["model"] == target.model_id
    assert not ran.is_alive()
    # offline when the run ended: the link hears the device's status message a moment later
    deadline = time.monotonic() + 10
    while setup.link.online.get(target.device_id) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert setup.link.online.get(target.device_id) is False
