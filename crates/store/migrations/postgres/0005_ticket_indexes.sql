-- Ticket lists filtered by town (a subquery on the school) and system count from this index.
CREATE INDEX tickets_customer_system ON tickets (customer_id, system);
