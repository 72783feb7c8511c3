"""Writes to features: versioned, audited edits, imports' bulk upserts, and the checks both make."""
