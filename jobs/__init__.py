"""Merchant Insights lakehouse jobs."""
