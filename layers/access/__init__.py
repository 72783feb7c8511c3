"""Who may do what: users, keys, sessions, roles, the policy, and database roles for QGIS."""
