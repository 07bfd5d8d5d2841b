-- The board asks for every visit that overlaps its window (a day or a week). With only
-- visits_board (starts_at), "starts before the window ends" matched every visit in the
-- history: a year of it (432,000 done visits, 200 technicians) made the board's query a
-- parallel scan of the whole table, 57-97 ms instead of 7-12. Overlap on a range index reads
-- only the window's visits, for a past window as for this week. btree_gist is not needed:
-- the index holds the range alone (the technicians are filtered on the rows found).
CREATE INDEX IF NOT EXISTS visits_board_span ON visits
    USING gist (tstzrange(starts_at, ends_at))
    WHERE state IN ('held', 'booked', 'done');
