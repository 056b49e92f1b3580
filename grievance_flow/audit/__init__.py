"""Audit: read, replay and re-project workflow histories, the source of truth.

Everything here works from a Temporal history alone (a file an auditor was
handed, or one fetched from the server), never from the read model: the point
is to prove what happened to a case and that today's workflow code reproduces
it. The CLI (``grievance audit``, ``grievance projection rebuild``) and the
API's history endpoint are thin wrappers around these modules.
"""
