"""Tests of the MQTT charger transport."""
