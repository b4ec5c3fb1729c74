"""The demo hospital shipped with medgrade: devices, data destinations and data assets (CSV)."""
