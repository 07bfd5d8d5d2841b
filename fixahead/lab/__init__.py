"""The lab: what measures the platform rather than runs it. Benchmarks (`bench/`, each with
its same-run baselines), the scored evaluation of a simulated fleet (`evaluation/`), the
scenario runner that plays a fleet through the whole platform (`scenario`), the demo world
of customers and technicians around it (`demo`) and injected platform trouble (`trouble`).

Production roles never import it; `fixahead up` (the demo) and `fixahead bench|evaluate` do.
It owns no tables: it writes through the domains' functions."""
