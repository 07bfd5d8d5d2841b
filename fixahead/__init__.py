"""The composition root: settings, database and migrations, embedded services, the CLI, and
the wiring of ingest, rules, dispatch and the simulator into processes."""
