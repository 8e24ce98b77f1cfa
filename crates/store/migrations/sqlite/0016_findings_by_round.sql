-- A round's page lists the findings recorded on it.
CREATE INDEX IF NOT EXISTS patrol_findings_round ON patrol_findings (round_id);
