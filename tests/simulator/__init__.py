"""Tests of the Wallbox Quasar simulator over real Modbus TCP."""
