"""Integration tests with a real Home Assistant and the Quasar simulator over TCP."""
