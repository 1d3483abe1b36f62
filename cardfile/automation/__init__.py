"""Automation rules: when a record is created or updated and a condition holds, act.

``model`` holds the rule definitions (pure data, declared in packs or through the API),
``runner`` evaluates and applies them inside the engine's transaction, ``locks`` keeps
the records a rule locked, and ``admin`` adds and removes rules at runtime.
"""
