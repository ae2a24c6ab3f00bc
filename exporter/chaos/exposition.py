"""A scrape of ``/metrics``, parsed into samples that can be summed by
label, so scenarios compare numbers rather than text."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

Labels = frozenset[tuple[str, str]]


@dataclass(frozen=True)
class Exposition:
    samples: dict[tuple[str, Labels], float]

    @classmethod
    def parse(cls, text: str) -> Exposition:
        samples = {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }
        return cls(samples)

    def total(self, name: str, **labels: str) -> float:
        """The sum of every series of ``name`` carrying these label values."""
        wanted = set(labels.items())
        return sum(
            value
            for (sample, found), value in self.samples.items()
            if sample == name and wanted <= found
        )

    def by(
        self, name: str, keys: Iterable[str], **labels: str
    ) -> Counter[tuple[str, ...]]:
        """Sums of ``name`` grouped by the values of ``keys`` (zeros left out)."""
        keys = tuple(keys)
        wanted = set(labels.items())
        sums: Counter[tuple[str, ...]] = Counter()
        for (sample, found), value in self.samples.items():
            if sample != name or not wanted <= found or not value:
                continue
            values = dict(found)
            sums[tuple(values.get(key, "") for key in keys)] += int(value)
        return sums
