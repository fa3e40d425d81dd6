"""What strangers talk to: the ingestion API (ingest.py, DESIGN.md §6) and its keys (keys.py). No Spark here: these
processes start in a second and hold no JVM."""
