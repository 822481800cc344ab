-- A borrow (借用: a tool lent) is out until the storekeeper takes it back: when and by
-- whom, and the outstanding ones found by type and status.
ALTER TABLE requisitions ADD COLUMN returned_at TEXT;
ALTER TABLE requisitions ADD COLUMN returned_by BIGINT REFERENCES users (id);
ALTER TABLE requisitions ADD COLUMN return_note TEXT;
CREATE INDEX requisitions_outstanding ON requisitions (issue_type, status, issued_at);
-- The movement that took a lent line back, so the issue ledger shows both halves; the
-- ledger finds a line by either movement.
ALTER TABLE requisition_lines ADD COLUMN return_movement_id BIGINT REFERENCES stock_movements (id);
CREATE INDEX requisition_lines_movement ON requisition_lines (movement_id);
CREATE INDEX requisition_lines_return_movement ON requisition_lines (return_movement_id);
