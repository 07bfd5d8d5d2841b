"""Mosquitto's dynamic security plugin: its JSON file and its control commands. No I/O.

Every device is a client whose username and client id are both its device id, with a role
of its own (`device:<id>`) that allows exactly its own topics: publish to
`<prefix>/<id>/{telemetry,events,status,replies}`, subscribe to and receive
`<prefix>/<id>/commands`. Default access is deny for everything else, so a device's
`$share/...` subscription or any other device's topic is refused at SUBSCRIBE, and a device
cannot connect under another client id (a platform worker's, or another device's).
Mosquitto 2.0's plugin has no `%u`/`%c` ACL patterns, hence one role per device.

Service accounts (dotted names, which no device id can take): ingest reads device channels
and the audit plugin's reports of refused requests (plain or shared subscriptions), the
platform reads and writes under the prefix, and the admin account alone may use
`$CONTROL/dynamic-security/#`.

Each client's text description holds a digest of the registry's secret hash it was created
from: the broker sync compares it with the registry to know whether the broker has the
current secret (the control API takes only plaintext passwords, which the registry does not
keep).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from typing import Any

from devices.credentials import parse_hash
from devices.topics import PUBLISHED_BY_DEVICE, acl_notice_topic

INGEST, PLATFORM, ADMIN = "fixahead.ingest", "fixahead.platform", "fixahead.admin"
SERVICES = (INGEST, PLATFORM, ADMIN)
CONTROL_TOPIC = "$CONTROL/dynamic-security/v1"
RESPONSE_TOPIC = CONTROL_TOPIC + "/response"
RESERVED_PREFIX = "fixahead"  # device ids that could pass for platform client ids

Json = dict[str, Any]


def role_name(device_id: str) -> str:
    """The name of a device's own role."""
    return f"device:{device_id}"


def secret_tag(secret_hash: str) -> str:
    """A short digest of a registry secret hash, kept as the client's text description."""
    return "secret:" + hashlib.sha256(secret_hash.encode()).hexdigest()[:16]


def _acl(kind: str, topic: str, allow: bool = True) -> Json:
    return {"acltype": kind, "topic": topic, "priority": 0, "allow": allow}


def device_acls(prefix: str, device_id: str) -> list[Json]:
    """A device's own topics, nothing else."""
    own = f"{prefix}/{device_id}"
    return [*(_acl("publishClientSend", f"{own}/{ch}") for ch in PUBLISHED_BY_DEVICE),
            _acl("subscribeLiteral", f"{own}/commands"),
            _acl("unsubscribeLiteral", f"{own}/commands"),
            _acl("publishClientReceive", f"{own}/commands")]


def service_roles(prefix: str) -> list[Json]:
    """The roles of the ingest, platform and admin accounts."""
    ingest = []
    for ch in PUBLISHED_BY_DEVICE:
        ingest += [_acl("subscribePattern", f"{prefix}/+/{ch}"),
                   _acl("subscribePattern", f"$share/+/{prefix}/+/{ch}"),
                   _acl("publishClientReceive", f"{prefix}/+/{ch}")]
    notices = acl_notice_topic(prefix)  # the audit plugin's reports of refused requests
    ingest += [_acl("subscribePattern", notices),
               _acl("subscribePattern", f"$share/+/{notices}"),
               _acl("publishClientReceive", notices)]
    platform = [_acl(kind, topic) for kind in ("publishClientSend", "publishClientReceive",
                                               "subscribePattern", "unsubscribePattern")
                for topic in (prefix, f"{prefix}/#")]
    control = [_acl(kind, f"{CONTROL_TOPIC}/#") for kind in (
        "publishClientSend", "publishClientReceive", "subscribePattern", "unsubscribePattern")]
    control.append(_acl("publishClientSend", CONTROL_TOPIC))
    return [{"rolename": INGEST, "acls": ingest}, {"rolename": PLATFORM, "acls": platform},
            {"rolename": ADMIN, "acls": control}]


def device_allowed(device_id: str) -> bool:
    """Whether a device id may become a broker client (not one a platform worker uses)."""
    return not device_id.lower().startswith(RESERVED_PREFIX)


def _stored_password(secret_hash: str) -> Json:
    parsed = parse_hash(secret_hash)
    return {"password": base64.b64encode(parsed.key).decode(),
            "salt": base64.b64encode(parsed.salt).decode(), "iterations": parsed.iterations}


def initial_config(prefix: str, services: dict[str, str],
                   devices: Iterable[tuple[str, str]]) -> Json:
    """The plugin's JSON file: service accounts and every (device id, `$7$` hash) given."""
    clients: list[Json] = [{"username": name, "roles": [{"rolename": name}],
                            **_stored_password(services[name])} for name in SERVICES]
    roles = service_roles(prefix)
    for device_id, secret_hash in devices:
        if not device_allowed(device_id):
            continue
        clients.append({"username": device_id, "clientid": device_id,
                        "textdescription": secret_tag(secret_hash),
                        "roles": [{"rolename": role_name(device_id)}],
                        **_stored_password(secret_hash)})
        roles.append({"rolename": role_name(device_id), "acls": device_acls(prefix, device_id)})
    return {"defaultACLAccess": {"publishClientSend": False, "publishClientReceive": False,
                                 "subscribe": False, "unsubscribe": False},
            "clients": clients, "groups": [], "roles": roles}


def add_device(prefix: str, device_id: str, secret: str, secret_hash: str) -> list[Json]:
    """Commands that (re)create a device's client with this secret: any old client of that
    name is deleted first, which also disconnects it (a rotated secret cuts the old one off)."""
    if not device_allowed(device_id):
        raise ValueError(f"device id {device_id!r} is reserved for platform client ids")
    role = role_name(device_id)
    return [{"command": "deleteClient", "username": device_id},
            {"command": "deleteRole", "rolename": role},
            {"command": "createRole", "rolename": role, "acls": device_acls(prefix, device_id)},
            {"command": "createClient", "username": device_id, "password": secret,
             "clientid": device_id, "textdescription": secret_tag(secret_hash),
             "roles": [{"rolename": role}]}]


def remove_device(device_id: str) -> list[Json]:
    """Commands that delete a device's client (disconnecting it) and its role."""
    return [{"command": "deleteClient", "username": device_id},
            {"command": "deleteRole", "rolename": role_name(device_id)}]


def get_client(device_id: str) -> Json:
    """The command that reads one client."""
    return {"command": "getClient", "username": device_id}


HARMLESS = ("Client not found", "Role not found")


def failed(responses: list[Json]) -> list[Json]:
    """Responses that report an error other than deleting what was already gone."""
    return [r for r in responses if r.get("error") and not (
        r.get("command") in ("deleteClient", "deleteRole") and r["error"] in HARMLESS)]
