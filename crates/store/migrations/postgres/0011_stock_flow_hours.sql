-- The stock reports' value flows summed per hour (UTC), kept by a trigger on the ledger so
-- every writer of a movement keeps them, in the same transaction. The valuation report
-- then sums at most a few thousand hours instead of every movement of its period; the
-- partial hours at either end of a period are summed from the ledger itself.
--
-- Per movement: `issued_*` count issues; `net_change_fen` is the change of usable stock
-- value — receipts, returns (an ordinary one or a repaired defective part) and stocktake
-- gains in, issues, scraps of usable stock and stocktake losses out; a transfer nets to
-- zero and a disposal of defective units (`rma`, `scrap`) touches no usable stock.
CREATE TABLE stock_flow_hours (
    hour            TIMESTAMPTZ PRIMARY KEY,
    issued_fen      BIGINT NOT NULL DEFAULT 0,
    issued_units    BIGINT NOT NULL DEFAULT 0,
    net_change_fen  BIGINT NOT NULL DEFAULT 0
);

CREATE FUNCTION stock_movements_flow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO stock_flow_hours (hour, issued_fen, issued_units, net_change_fen) VALUES (
        date_trunc('hour', NEW.at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
        CASE WHEN NEW.kind = 'issue' THEN NEW.qty * NEW.unit_cost_fen ELSE 0 END,
        CASE WHEN NEW.kind = 'issue' THEN NEW.qty ELSE 0 END,
        CASE
            WHEN NEW.kind IN ('receipt', 'return') THEN NEW.qty * NEW.unit_cost_fen
            WHEN NEW.kind = 'adjustment' AND NEW.direction = 'increase' THEN NEW.qty * NEW.unit_cost_fen
            WHEN NEW.kind = 'issue' THEN -(NEW.qty * NEW.unit_cost_fen)
            WHEN NEW.kind = 'scrap' AND NEW.outcome IS NULL THEN -(NEW.qty * NEW.unit_cost_fen)
            WHEN NEW.kind = 'adjustment' AND NEW.direction = 'decrease' THEN -(NEW.qty * NEW.unit_cost_fen)
            ELSE 0 END)
    ON CONFLICT (hour) DO UPDATE SET issued_fen = stock_flow_hours.issued_fen + excluded.issued_fen,
        issued_units = stock_flow_hours.issued_units + excluded.issued_units,
        net_change_fen = stock_flow_hours.net_change_fen + excluded.net_change_fen;
    RETURN NULL;
END $$;

CREATE TRIGGER stock_movements_flow AFTER INSERT ON stock_movements
    FOR EACH ROW WHEN (NEW.kind IN ('issue', 'receipt', 'return', 'adjustment', 'scrap'))
    EXECUTE FUNCTION stock_movements_flow();

INSERT INTO stock_flow_hours (hour, issued_fen, issued_units, net_change_fen)
SELECT date_trunc('hour', at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
    SUM(CASE WHEN kind = 'issue' THEN qty * unit_cost_fen ELSE 0 END),
    SUM(CASE WHEN kind = 'issue' THEN qty ELSE 0 END),
    SUM(CASE
        WHEN kind IN ('receipt', 'return') THEN qty * unit_cost_fen
        WHEN kind = 'adjustment' AND direction = 'increase' THEN qty * unit_cost_fen
        WHEN kind = 'issue' THEN -(qty * unit_cost_fen)
        WHEN kind = 'scrap' AND outcome IS NULL THEN -(qty * unit_cost_fen)
        WHEN kind = 'adjustment' AND direction = 'decrease' THEN -(qty * unit_cost_fen)
        ELSE 0 END)
FROM stock_movements WHERE kind IN ('issue', 'receipt', 'return', 'adjustment', 'scrap')
GROUP BY 1;
