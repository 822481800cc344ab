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
    hour            TEXT PRIMARY KEY,
    issued_fen      BIGINT NOT NULL DEFAULT 0,
    issued_units    BIGINT NOT NULL DEFAULT 0,
    net_change_fen  BIGINT NOT NULL DEFAULT 0
);

CREATE TRIGGER stock_movements_flow AFTER INSERT ON stock_movements
WHEN new.kind IN ('issue', 'receipt', 'return', 'adjustment', 'scrap')
BEGIN
    INSERT INTO stock_flow_hours (hour, issued_fen, issued_units, net_change_fen) VALUES (
        substr(new.at, 1, 13) || ':00:00+00:00',
        CASE WHEN new.kind = 'issue' THEN new.qty * new.unit_cost_fen ELSE 0 END,
        CASE WHEN new.kind = 'issue' THEN new.qty ELSE 0 END,
        CASE
            WHEN new.kind IN ('receipt', 'return') THEN new.qty * new.unit_cost_fen
            WHEN new.kind = 'adjustment' AND new.direction = 'increase' THEN new.qty * new.unit_cost_fen
            WHEN new.kind = 'issue' THEN -(new.qty * new.unit_cost_fen)
            WHEN new.kind = 'scrap' AND new.outcome IS NULL THEN -(new.qty * new.unit_cost_fen)
            WHEN new.kind = 'adjustment' AND new.direction = 'decrease' THEN -(new.qty * new.unit_cost_fen)
            ELSE 0 END)
    ON CONFLICT (hour) DO UPDATE SET issued_fen = issued_fen + excluded.issued_fen,
        issued_units = issued_units + excluded.issued_units, net_change_fen = net_change_fen + excluded.net_change_fen;
END;

INSERT INTO stock_flow_hours (hour, issued_fen, issued_units, net_change_fen)
SELECT substr(at, 1, 13) || ':00:00+00:00',
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
GROUP BY substr(at, 1, 13);
