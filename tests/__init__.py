"""Tests of Nordic V2H."""
