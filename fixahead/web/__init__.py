"""The web entry point, beside the domains like the CLI: the REST API (`routes/api/`: the
registry, jobs, technicians, incidents, device data, diagnostics) and the pages for people
(`routes/pages/`: sign-in, the board, job pages, incidents, outbox, fleet). It calls each
domain's public functions and writes only its own tables (api_tokens, web_users,
web_sessions)."""
