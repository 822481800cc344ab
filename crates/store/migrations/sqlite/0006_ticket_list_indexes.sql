-- Ticket lists at a million tickets: counts by school (town) and status from one index,
-- and the overdue view from a small partial index over open tickets only.
CREATE INDEX tickets_customer_status ON tickets (customer_id, status);
CREATE INDEX tickets_open_clocks ON tickets (status, respond_due, resolve_due, responded_at, resolved_at,
    respond_breached_at, arrive_breached_at, resolve_breached_at)
    WHERE status IN ('new', 'triage', 'to_dispatch', 'scheduled', 'in_progress');
-- (customer_id, system) and (customer_id, status) serve every lookup by school.
DROP INDEX tickets_customer;
