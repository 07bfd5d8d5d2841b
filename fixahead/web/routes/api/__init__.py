"""API routes (/api/v1 and the registry API), one module per resource."""
