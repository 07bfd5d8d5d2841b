"""Dispatch owns what happens after an incident: the action policy, the email outbox and
sender, availability prediction, technician booking, and what schedulers do to jobs
(`jobactions`, `jobmove`). Others read its tables through `queries` and, for the board,
`boardqueries`.

Tables it owns: technicians, technician_days_off, visits, visit_offers, dispatch_decisions,
email_outbox, link_uses, email_unsubscribes, household_availability, availability_outcomes,
customer_feedback, visit_work, appointments, fleet_incidents, dispatch_holds, job_numbers."""
