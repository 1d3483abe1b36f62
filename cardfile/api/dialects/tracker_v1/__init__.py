"""Tracker REST API v1 dialect, mounted at /tracker (seed 003)."""
