-- Rule precision joined rules' incidents with dispatch's visit outcomes and customer answers in
-- one view that neither package owned (issue 15). The web now composes it from each package's
-- public reads (`fixahead.web.fleetstore.rule_precision`), so the view goes.
DROP VIEW IF EXISTS rule_precision;
