"""Automation rules: when a record is created or updated and a condition holds, act.

``model`` holds the rule definitions (pure data, declared in packs or through the API),
``hooks`` plugs them into the engine (``before`` rules join the change; the others run
through ``runner`` inside the engine's transaction), ``locks`` keeps the records a rule
locked, and ``rulebook`` stores them and adds and removes rules at runtime. Automation
imports the engine, never the reverse.
"""
