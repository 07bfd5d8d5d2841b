"""Rules owns rule files, the rule compiler, Numba kernels, streaming detectors, and
incidents with their lifecycle. People change incidents only through commands the rule
engine applies (`rules.commandstore.submit`); others read incidents through `rules.queries`.

Tables it owns: incidents, incident_changes, incident_mutes, incident_commands,
rule_partitions, rule_state."""
