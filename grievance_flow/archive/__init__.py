"""The archive (SPEC §12): closed cases' histories as signed bundles, outliving retention.

A Temporal Schedule starts :class:`ArchiveWorkflow` every few minutes; its
activity exports every case closed since the last run into
``GRIEVANCE_ARCHIVE_DIR`` (default ``DIR/archive``), one bundle per case at
``YYYY-MM/<case id>.json`` (the month it closed, in the catalogue's zone).
"""
