"""KPI reports for people: periods in the catalogue's time zone, the unit ranking, tables.

Shared by ``GET /v1/kpis`` (JSON and CSV), ``GET /v1/kpis/ranking`` and
``grievance report``, so the monthly file and the API cannot disagree.
"""
