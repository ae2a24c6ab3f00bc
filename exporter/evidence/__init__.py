"""Evidence: crash-safe JSON Lines files, rotation, retention, manifest.

The exporter and the ``run`` wrapper append through ``EvidenceWriter``; the
exporter follows executions with ``EvidenceTail`` and rotates daily with
``rotate``; the ``evidence`` and ``report`` commands read the rest.
"""

from exporter.evidence.events import format_timestamp, parse_timestamp, process_identity
from exporter.evidence.layout import MANIFEST_NAME, active_path, sealed_files
from exporter.evidence.manifest import ManifestEntry, describe_file, load_manifest
from exporter.evidence.permissions import EvidencePermissionError
from exporter.evidence.reader import Record, RecordReader, read_events, record_time
from exporter.evidence.rotation import RotationResult, rotate
from exporter.evidence.status import EvidenceStatus, evidence_status
from exporter.evidence.tail import EvidenceTail
from exporter.evidence.verify import Problem, VerifyReport, verify
from exporter.evidence.writer import EvidenceWriter

__all__ = [
    "MANIFEST_NAME",
    "EvidencePermissionError",
    "EvidenceStatus",
    "EvidenceTail",
    "EvidenceWriter",
    "ManifestEntry",
    "Problem",
    "Record",
    "RecordReader",
    "RotationResult",
    "VerifyReport",
    "active_path",
    "describe_file",
    "evidence_status",
    "format_timestamp",
    "load_manifest",
    "parse_timestamp",
    "process_identity",
    "read_events",
    "record_time",
    "rotate",
    "sealed_files",
    "verify",
]
