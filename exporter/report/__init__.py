"""The daily report: a UTC day of evidence, summarised, and each SLO of the
spec met or missed (``runner-watchdog report daily``)."""

from exporter.report.daily import DailyReport, daily_report
from exporter.report.render import report_document, report_json, report_text

__all__ = [
    "DailyReport",
    "daily_report",
    "report_document",
    "report_json",
    "report_text",
]
