"""What the tests share: tiny events and bronze rows (events.py), the JSON Schema reference validator (registry.py),
and lakehouses written once and copied by the tests that change them (lakehouses.py)."""
