-- A rule's record from both sources (issue 17): technicians' outcome codes as before, and the
-- customer's own answer on the self-help email ("I fixed it" / "still broken", one of each per
-- incident at most) as a separate pair of columns. Technician-based precision is unchanged; a
-- rule that only customers have answered for appears with confirmed = judged = 0.
CREATE OR REPLACE VIEW rule_precision AS
WITH technicians AS (
    SELECT src AS source, i.fault,
           count(*) FILTER (WHERE w.outcome = 'confirmed') AS confirmed,
           count(*) FILTER (WHERE w.outcome IN ('other_fault', 'no_fault_found')) AS wrong,
           count(*) FILTER (WHERE w.outcome IN ('confirmed', 'other_fault', 'no_fault_found'))
               AS judged,
           (count(*) FILTER (WHERE w.outcome = 'confirmed'))::float8
             / nullif(count(*) FILTER (WHERE w.outcome IN ('confirmed', 'other_fault',
                                                            'no_fault_found')), 0) AS precision
    FROM visit_work w
    JOIN incidents i ON i.key = w.incident_id
    CROSS JOIN LATERAL unnest(i.sources) AS src
    GROUP BY src, i.fault
), customers AS (
    SELECT src AS source, i.fault,
           count(*) FILTER (WHERE f.kind = 'fixed') AS customer_fixed,
           count(*) FILTER (WHERE f.kind = 'still_broken') AS customer_still_broken
    FROM customer_feedback f
    JOIN incidents i ON i.key = f.incident_id
    CROSS JOIN LATERAL unnest(i.sources) AS src
    GROUP BY src, i.fault
)
SELECT coalesce(t.source, c.source) AS source, coalesce(t.fault, c.fault) AS fault,
       coalesce(t.confirmed, 0) AS confirmed, coalesce(t.wrong, 0) AS wrong,
       coalesce(t.judged, 0) AS judged, t.precision,
       coalesce(c.customer_fixed, 0) AS customer_fixed,
       coalesce(c.customer_still_broken, 0) AS customer_still_broken
FROM technicians t
FULL JOIN customers c ON c.source = t.source AND c.fault = t.fault;
