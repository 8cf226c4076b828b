"""The WhatsApp connection doctor ("Check connection"): what is wrong with a workspace's
connection, in plain words, with what to do. ``diagnose`` runs every check; the admin API
(``GET /api/admin/workspaces/{subdomain}/whatsapp/doctor``), ``xobito doctor`` and the
dashboard call it."""

from xobito.connection.doctor.report import STATUSES, Check, DoctorReport, Status
from xobito.connection.doctor.service import ORDER, diagnose

__all__ = ["ORDER", "STATUSES", "Check", "DoctorReport", "Status", "diagnose"]
