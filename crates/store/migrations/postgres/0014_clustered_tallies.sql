-- The open requests indexed by deadline, so that the queue reads the first to breach without sorting every open
-- request. (PostgreSQL reads the tallies through their primary key already.)

CREATE INDEX service_requests_open_due ON service_requests (community_id, resolve_due, id)
    WHERE status IN ('received','responded','dispatched','in_progress');
