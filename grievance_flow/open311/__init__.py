"""Open311 GeoReport v2: documents, statuses, services, requests and forms (SPEC §9)."""
