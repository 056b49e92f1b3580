"""Signed webhooks to the hotline (SPEC §10): subscriptions, messages, signing, delivery."""
