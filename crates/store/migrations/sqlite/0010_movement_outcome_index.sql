-- The value flows of the stock reports tell a disposal (a row with an `outcome`) from an
-- ordinary return or scrap: the covering index carries the outcome too, so the report
-- over a year of movements still reads only the index.
DROP INDEX stock_movements_kind_at;
CREATE INDEX stock_movements_kind_at ON stock_movements (kind, at, part_id, qty, unit_cost_fen, direction, outcome);
