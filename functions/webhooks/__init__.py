"""Webhook ingestion: source configuration, signature schemes and the receiver."""
