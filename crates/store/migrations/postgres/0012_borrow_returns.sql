-- A borrow (借用: a tool lent) is out until the storekeeper takes it back: when and by
-- whom, and the outstanding ones found by type and status.
ALTER TABLE requisitions ADD COLUMN returned_at TIMESTAMPTZ;
ALTER TABLE requisitions ADD COLUMN returned_by BIGINT REFERENCES users (id);
ALTER TABLE requisitions ADD COLUMN return_note TEXT;
CREATE INDEX requisitions_outstanding ON requisitions (issue_type, status, issued_at);
