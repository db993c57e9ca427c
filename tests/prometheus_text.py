"""Read a /metrics answer with prometheus_client's own parser."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample


@dataclass
class Scrape:
    """The samples of one scrape, looked up by sample name and labels."""

    samples: list[Sample]
    families: dict[str, str]  # family name -> type

    @classmethod
    def parse(cls, text: str) -> Scrape:
        families = list(text_string_to_metric_families(text))
        return cls(
            samples=[s for f in families for s in f.samples],
            families={f.name: f.type for f in families},
        )

    def matching(self, name: str, **labels: str) -> list[Sample]:
        return [
            s
            for s in self.samples
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
        ]

    def value(self, name: str, **labels: str) -> float:
        """Return the one sample's value; fail when there is none or several."""
        found = self.matching(name, **labels)
        assert len(found) == 1, f"{name}{labels}: {len(found)} samples"
        return found[0].value

    def total(self, name: str, **labels: str) -> float:
        """Return the sum of every matching sample (0 when none matches)."""
        return sum(s.value for s in self.matching(name, **labels))
