"""Map-first dashboard: static assets and templates; talks only HTTP to api/."""
