-- Indexes for the equipment list's counts: school (by town) with status.
CREATE INDEX equipment_customer_status ON equipment (customer_id, status);
