-- Reminders of an activity are sent once per registration.
ALTER TABLE activity_registrations ADD COLUMN reminded_at TEXT;
