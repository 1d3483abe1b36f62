"""Behaviour of the ``tracker`` pack that both Tracker dialects share (REST v1 and the widget)."""
