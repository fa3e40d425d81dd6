"""Where gold is published: the time-series store (influx.py). Each sink turns gold rows into its own records in the
JVM and writes them from Spark partitions, never by collecting gold to the driver."""
