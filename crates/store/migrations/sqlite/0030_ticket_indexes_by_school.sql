-- The same indexes as PostgreSQL's 0030, so that both schemas stay alike. SQLite ends every
-- index with the row id (here the ticket's id) already, and plans a town's list from them
-- itself; the id written out changes nothing in the order.
DROP INDEX tickets_customer_system;
CREATE INDEX tickets_customer_system ON tickets (customer_id, system, id);
DROP INDEX tickets_customer_status;
CREATE INDEX tickets_customer_status ON tickets (customer_id, status, id);
CREATE INDEX tickets_customer ON tickets (customer_id, id);
