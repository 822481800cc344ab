-- A town's ticket list on PostgreSQL is merged from each school's first tickets
-- (store::tickets::town_by_school). Each school's walk must stop at the page, so it reads an
-- index ordered by id within the school — and within its system, or its status. PostgreSQL
-- keeps equal keys in table order, not id order, so the id is written out.
DROP INDEX tickets_customer_system;
CREATE INDEX tickets_customer_system ON tickets (customer_id, system, id);
DROP INDEX tickets_customer_status;
CREATE INDEX tickets_customer_status ON tickets (customer_id, status, id);
CREATE INDEX tickets_customer ON tickets (customer_id, id);
