-- The outbox sends emergencies first and holds each message on its own: `priority` orders the queue (1 for an
-- emergency, 0 for the rest), and `lease` counts the claims of a message, so that a node whose hold ran out cannot
-- record the outcome of a send that another node has since taken over.
ALTER TABLE outbox ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN lease INTEGER NOT NULL DEFAULT 0;
CREATE INDEX outbox_queue ON outbox (priority DESC, id) WHERE status = 'pending';
CREATE INDEX outbox_held ON outbox (channel_id, locked_until) WHERE status = 'pending';
