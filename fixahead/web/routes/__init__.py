"""Routes of the web entry point: `api/` (JSON) and `pages/` (HTML), one module per resource."""
