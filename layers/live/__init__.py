"""Live status: the one write path, the event log and stream, staleness, history, dead letters."""
