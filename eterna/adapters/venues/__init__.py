"""Venue and chain adapters of the market sandbox: in-process, and over its HTTP API."""
