"""Tests of the charger transports."""
