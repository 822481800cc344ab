-- A search document's id now encodes its record: ref_id * 16 + kind code (customer 1,
-- equipment 2, ticket 3), so a match is turned into record ids without a lookup.
-- Negative first, so no new id collides with an old one on the way.
UPDATE search_docs SET id = -id;
UPDATE search_docs SET id = ref_id * 16 + CASE kind WHEN 'customer' THEN 1 WHEN 'equipment' THEN 2 WHEN 'ticket' THEN 3 ELSE 0 END;
