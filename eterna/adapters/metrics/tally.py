"""Counters and histograms for the hot path: plain numbers, turned into families at scrape.

prometheus_client's own metric objects take a lock on every increment and walk a
histogram's buckets in Python (3-4 us per observation here). Everything in a process of
Eterna that counts, and the scrape that reads the counts, runs on the one event loop thread,
so a series here is a few plain numbers: a counter adds to a float, a histogram bisects its
bounds and adds to one bucket. :class:`Tally` is the collector that reports them.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterator, Sequence

from prometheus_client.metrics_core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString


class CounterSeries:
    """One labelled counter."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0.0

    def inc(self, amount: float = 1.0) -> None:
        """Add to the counter."""
        self.value += amount


class HistogramSeries:
    """One labelled histogram: a count per bucket (the last one is +Inf) and a sum."""

    __slots__ = ("_bounds", "counts", "total")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self._bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.total = 0.0

    def observe(self, value: float) -> None:
        """Count the value in the first bucket whose bound is at least the value."""
        self.counts[bisect.bisect_left(self._bounds, value)] += 1
        self.total += value


class _Family:
    def __init__(self, name: str, documentation: str, labels: Sequence[str]) -> None:
        self.name = name
        self.documentation = documentation
        self.label_names = tuple(labels)


class CounterFamily(_Family):
    """A counter with labels; ``name`` without ``_total``, as Prometheus's clients spell it."""

    def __init__(self, name: str, documentation: str, labels: Sequence[str]) -> None:
        super().__init__(name, documentation, labels)
        self.series: dict[tuple[str, ...], CounterSeries] = {}

    def labels(self, *values: str) -> CounterSeries:
        """Return the series of these label values, created on first use."""
        series = self.series.get(values)
        if series is None:
            series = self.series[values] = CounterSeries()
        return series

    def collect(self) -> Metric:
        """Return the family as prometheus_client reports it."""
        family = CounterMetricFamily(self.name, self.documentation, labels=self.label_names)
        for values, series in self.series.items():
            family.add_metric(list(values), series.value)
        return family


class HistogramFamily(_Family):
    """A histogram with labels and fixed bucket bounds."""

    def __init__(
        self, name: str, documentation: str, labels: Sequence[str], buckets: Sequence[float]
    ) -> None:
        super().__init__(name, documentation, labels)
        self.bounds = tuple(sorted(b for b in buckets if not math.isinf(b)))
        self.series: dict[tuple[str, ...], HistogramSeries] = {}

    def labels(self, *values: str) -> HistogramSeries:
        """Return the series of these label values, created on first use."""
        series = self.series.get(values)
        if series is None:
            series = self.series[values] = HistogramSeries(self.bounds)
        return series

    def collect(self) -> Metric:
        """Return the family with cumulative buckets, as Prometheus expects them."""
        family = HistogramMetricFamily(self.name, self.documentation, labels=self.label_names)
        # Spelled as prometheus_client spells its own bounds ("0.005", "2.592e+06").
        edges = [*(floatToGoString(b) for b in self.bounds), "+Inf"]  # type: ignore[no-untyped-call]
        for values, series in self.series.items():
            cumulative, buckets = 0, []
            for edge, count in zip(edges, series.counts, strict=True):
                cumulative += count
                buckets.append((edge, float(cumulative)))
            family.add_metric(list(values), buckets, series.total)
        return family


class Tally(Collector):
    """The collector of this module's families."""

    def __init__(self) -> None:
        self._families: list[CounterFamily | HistogramFamily] = []

    def counter(self, name: str, documentation: str, labels: Sequence[str]) -> CounterFamily:
        """Add a counter family."""
        family = CounterFamily(name, documentation, labels)
        self._families.append(family)
        return family

    def histogram(
        self, name: str, documentation: str, labels: Sequence[str], buckets: Sequence[float]
    ) -> HistogramFamily:
        """Add a histogram family."""
        family = HistogramFamily(name, documentation, labels, buckets)
        self._families.append(family)
        return family

    def collect(self) -> Iterator[Metric]:
        """Yield every family."""
        for family in self._families:
            yield family.collect()
