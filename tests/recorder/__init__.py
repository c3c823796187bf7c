"""Tests that need Home Assistant's recorder, which must start before Home Assistant."""
