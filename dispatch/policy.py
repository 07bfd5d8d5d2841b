"""The action policy: from an incident and its customer, decide what to do and when to email.

Pure: values in, a `Decision` out. The caller supplies `now` and how many emails the customer
already has sent or scheduled per local day; the store makes the decision idempotent by its key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from dispatch.types import CustomerInfo, IncidentInfo

UTC = ZoneInfo("UTC")


class Action(StrEnum):
    """What dispatch does about an incident."""

    SELF_HELP = "self_help"
    VISIT = "visit"
    URGENT = "urgent"
    WAIT = "wait_for_scheduler"


class Delivery(StrEnum):
    """When the email goes out."""

    NOW = "now"
    DEFER = "defer"  # quiet hours: at their end, in the customer's time zone
    DIGEST = "digest"  # over the daily budget: merged into the day's digest
    NONE = "none"  # no email (no consent, unsubscribed, no address)


@dataclass(frozen=True)
class PolicyConfig:
    """Tunables of the policy."""

    emails_per_day: int = 1
    digest_time: time = time(18, 0)


@dataclass(frozen=True)
class Decision:
    """The outcome for one incident; `idempotency_key` makes it once per episode and kind."""

    incident_id: str
    customer_id: str
    action: Action
    delivery: Delivery
    send_at: datetime | None
    urgent: bool
    escalated: bool
    digest_day: date | None
    reason: str
    away_until: datetime | None = None  # a non-urgent visit is proposed after this return

    @property
    def idempotency_key(self) -> str:
        """Incident id + action kind: at most one email per incident episode and kind."""
        return f"{self.incident_id}:{self.action.value}"


def in_quiet_hours(local: time, start: time, end: time) -> bool:
    """Whether a local wall-clock time lies in [start, end), which may wrap midnight."""
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def local_at(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of wall-clock `at` on `day` in `zone` (a skipped time moves forward)."""
    naive = datetime.combine(day, at)
    # fold=0 reads a time in a spring-forward gap with the offset before the change, which
    # lands after the gap once normalised through UTC; an ambiguous time takes its first pass.
    return naive.replace(tzinfo=zone).astimezone(UTC)


def end_of_quiet_hours(now: datetime, customer: CustomerInfo) -> datetime:
    """The first instant at or after `now` outside the customer's quiet hours, in UTC."""
    zone = customer.zone
    local = now.astimezone(zone)
    if not in_quiet_hours(local.time(), customer.quiet_start, customer.quiet_end):
        return now.astimezone(UTC)
    day = local.date()
    if customer.quiet_start > customer.quiet_end and local.time() >= customer.quiet_start:
        day += timedelta(days=1)
    end = local_at(day, customer.quiet_end, zone)
    return max(end, now.astimezone(UTC))


def digest_time(after: datetime, customer: CustomerInfo, config: PolicyConfig) -> datetime:
    """When the day's digest goes out: the digest time of the local day of `after`, or, once
    that has passed, the end of the coming night's quiet hours (next day's digest time if the
    customer has no quiet hours)."""
    zone = customer.zone
    day = after.astimezone(zone).date()
    today = local_at(day, config.digest_time, zone)
    if today > after:
        return end_of_quiet_hours(today, customer)
    if customer.quiet_start == customer.quiet_end:
        return local_at(day + timedelta(days=1), config.digest_time, zone)
    night = local_at(day, customer.quiet_start, zone)
    if night <= after:
        night = local_at(day + timedelta(days=1), customer.quiet_start, zone)
    return end_of_quiet_hours(night, customer)


def choose_action(incident: IncidentInfo) -> tuple[Action, bool, str]:
    """The action from the catalog entry and the episode: (action, escalated, reason)."""
    fault = incident.fault
    if fault.urgent:
        return Action.URGENT, False, f"{fault.code} is urgent"
    if fault.customer_fixable and incident.still_broken:
        return Action.VISIT, True, "the customer says the self-help did not fix it"
    if fault.customer_fixable and not incident.self_help_tried:
        return Action.SELF_HELP, False, f"{fault.code} can be fixed by the customer"
    if fault.customer_fixable:
        why = "came back" if incident.recurred else "persisted"
        return Action.VISIT, True, f"self-help was tried and the fault {why}"
    return Action.VISIT, False, f"{fault.code} needs a technician"


def decide(
    incident: IncidentInfo,
    customer: CustomerInfo,
    *,
    now: datetime,
    emails_by_day: Mapping[date, int] | None = None,
    config: PolicyConfig = PolicyConfig(),
    away_until: datetime | None = None,
) -> Decision:
    """Decide the action and the email's timing for one incident; when the household is away
    until `away_until`, a non-urgent visit is planned after that (urgent ones are not)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    action, escalated, reason = choose_action(incident)
    urgent = action is Action.URGENT

    later = None
    if action is Action.VISIT and away_until is not None and away_until > now:
        later = away_until.astimezone(UTC)
        reason += f"; household away, visit after the likely return ({later:%Y-%m-%d})"

    def made(act: Action, delivery: Delivery, send_at: datetime | None, why: str,
             digest_day: date | None = None) -> Decision:
        return Decision(incident.incident_id, customer.customer_id, act, delivery, send_at,
                        urgent, escalated, digest_day, why,
                        later if act is Action.VISIT else None)

    if not customer.consent_email or customer.unsubscribed or not customer.email:
        why = ("no email address" if not customer.email else "unsubscribed"
               if customer.unsubscribed else "no consent to proactive email")
        return made(Action.WAIT, Delivery.NONE, None,
                    f"{reason}; {why}: no email, call the customer")
    now_utc = now.astimezone(UTC)
    if urgent:
        return made(action, Delivery.NOW, now_utc, f"{reason}; call-out now")
    zone = customer.zone
    send_at = end_of_quiet_hours(now_utc, customer)
    delivery = Delivery.NOW if send_at == now_utc else Delivery.DEFER
    day = send_at.astimezone(zone).date()
    counts = emails_by_day or {}
    if counts.get(day, 0) >= config.emails_per_day and action is Action.VISIT:
        reason += "; daily budget used, but a visit proposal gets its own email"
    elif counts.get(day, 0) >= config.emails_per_day:
        digest_at = digest_time(send_at, customer, config)
        return made(action, Delivery.DIGEST, digest_at,
                    f"{reason}; daily budget used, merged into the digest",
                    digest_at.astimezone(zone).date())
    if delivery is Delivery.DEFER:
        reason += "; quiet hours, sent at their end"
    return made(action, delivery, send_at, reason)
