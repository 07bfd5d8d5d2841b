"""Devices is the base every other package may import: appliance models and their
error-code catalogs (`catalog`), the device protocol (`protocol`, `topics`, `commands`), the
registry of devices (`registry`, `store`, `provisioning`), device credentials (`credentials`),
customers, households and consents (`customers`, `customerstore`), privacy (`privacy`,
`audit`), and remote diagnostics (`diagnostics`, `diagnostics_store`, `diagnostics_mqtt`).

Tables it owns: models, model_metrics, error_codes, devices, error_code_texts,
model_catalogs, customers, households, consents, audit_log, diagnostic_requests,
diagnostic_refusals. Views it owns: customer_consents."""
