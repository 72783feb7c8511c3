"""Live status in: HTTP push, MQTT, pollers, file import; writes through layers/."""
