"""The Alertmanager side of a spec: alertmanager.yml, its notification
templates and its routing test cases, all under alertmanager/."""

from __future__ import annotations

from pathlib import PurePosixPath

from rulegen import names, yamlout
from rulegen.alertmanager import notifications, routingtests
from rulegen.alertmanager.config import config
from rulegen.artifacts import Artifact
from rulegen.spec.model import Spec


def alertmanager_files(spec: Spec) -> list[Artifact]:
    """Nothing when the spec has no routing section.

    Known gap: dropping the section leaves an earlier build's alertmanager/
    in place, since a build only cleans the directories it writes to.
    """
    if spec.routing is None:
        return []
    tests = routingtests.document(routingtests.cases(spec, spec.routing))
    return [
        Artifact(
            PurePosixPath(names.ALERTMANAGER_CONFIG),
            yamlout.document(config(spec, spec.routing), spec.file),
        ),
        Artifact(
            PurePosixPath(names.NOTIFICATION_TEMPLATES),
            notifications.template_text(spec),
        ),
        Artifact(
            PurePosixPath(names.ROUTING_TESTS), yamlout.document(tests, spec.file)
        ),
    ]
