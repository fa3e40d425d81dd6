"""Pure DataFrame -> DataFrame functions: they never read or write storage."""
