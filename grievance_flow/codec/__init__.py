"""Payload encryption (SPEC §12): an AES-256-GCM key ring, the codec, and its HTTP server.

Citizens' names, phones, addresses and descriptions travel in every case
payload; with the codec they sit in Temporal's history, its Web UI and any
copied history as ciphertext, readable only through the ring.
"""
