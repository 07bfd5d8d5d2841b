"""Devices is the base every other package may import: appliance models and their
error-code catalogs (`catalog`), the device protocol (`protocol`, `topics`), the registry of
devices (`registry`, `store`, `provisioning`), device credentials (`credentials`), customers,
households and consents (`customers`, `customerstore`), and privacy (`privacy`, `audit`)."""
