"""Customer email: rendering from templates, and delivery from the outbox over SMTP."""
