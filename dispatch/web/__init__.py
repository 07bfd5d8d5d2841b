"""The web app: the REST API for the registry (models, catalogs, customers, households,
devices) with token authentication and roles; other areas' routers are mounted by the caller."""
