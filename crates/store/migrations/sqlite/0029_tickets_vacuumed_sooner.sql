-- PostgreSQL vacuums the tickets table sooner, to keep its visibility map set for the
-- lists' counts (see the PostgreSQL migration); SQLite has no visibility map. Kept so both
-- backends carry the same migration versions.
SELECT 1;
