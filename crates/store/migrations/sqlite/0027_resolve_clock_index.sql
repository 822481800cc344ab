-- The SLA sweep's resolve clock, sought by its due time among the open tickets whose clock
-- still runs: in `tickets_open_clocks` it sits behind the respond clock, so finding the late
-- ones read every open ticket's entry (1.3 s a minute at a million open tickets, on
-- SQLite). The condition is written as the sweep's query writes it, so SQLite uses it.
CREATE INDEX tickets_resolve_clock ON tickets (resolve_due)
    WHERE status IN ('new', 'triage', 'to_dispatch', 'scheduled', 'in_progress')
        AND resolved_at IS NULL AND resolve_breached_at IS NULL;
