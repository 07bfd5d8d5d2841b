"""Score a simulated run: ground truth + the platform's tables -> metrics and a report.

Public surface: `score.score` (pure), `records.load_records` (PostgreSQL),
`report.write_report`, and `evaluate.evaluate_run` / `evaluate.resolve_run`.
"""
