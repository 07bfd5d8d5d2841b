"""Devices is the base every other package may import: appliance models and their
error-code catalogs, the device protocol (topics, message types, codecs), the registry of
devices, and device credentials."""
