"""The composition root: settings, database and migrations, embedded services, the CLI, the
web entry point (`fixahead.web`), and the wiring of ingest, rules, dispatch and the simulator
into processes.

Tables it owns: schema_migrations, api_tokens, web_users, web_sessions, platform_listening,
storage_job_runs."""
