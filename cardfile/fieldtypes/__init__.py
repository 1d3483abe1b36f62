"""Field types: one class per type, registered by name."""
