-- A 12345 order is taken in once per community: two imports of the same file at once no longer both write it.
-- Open311 clients' device ids share the column and may repeat, so the rule covers the 12345 channel only.
-- A database that already holds an order twice keeps the oldest request's order number as it is and marks each
-- later copy's as `<order>#<request id>`, so the index can be built and nothing is lost.
UPDATE service_requests SET external_no = external_no || '#' || CAST(id AS TEXT)
WHERE channel = 'hotline_12345' AND external_no IS NOT NULL
  AND EXISTS (SELECT 1 FROM service_requests o
              WHERE o.community_id = service_requests.community_id AND o.channel = 'hotline_12345'
                AND o.external_no = service_requests.external_no AND o.id < service_requests.id);

CREATE UNIQUE INDEX service_requests_external_no_once
    ON service_requests (community_id, external_no)
    WHERE external_no IS NOT NULL AND channel = 'hotline_12345';
