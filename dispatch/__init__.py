"""Dispatch owns what happens after an incident: the action policy, the email outbox and
sender, availability prediction, technician booking, and the web UI and API."""
