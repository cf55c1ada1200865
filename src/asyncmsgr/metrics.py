"""The perf counters for Prometheus: ``/metrics`` in the text exposition format.

Needs the ``prometheus-client`` library (``pip install 'asyncmsgr[prometheus]'``).
A :class:`~asyncmsgr.context.Context` starts an exporter when its
``asyncmsgr_prometheus_addr`` option is ``HOST:PORT`` (port 0: any free port,
see :attr:`PrometheusExporter.port`): every long-running subcommand
(``--asyncmsgr_prometheus_addr=127.0.0.1:9283``) and any program whose
messenger has the option. The HTTP server runs in its own thread and reads the
counters at each scrape (:class:`PerfCollector`); nothing is added to the
message path.

Names and types follow the counters' kinds (:mod:`asyncmsgr.perf`):

=============  ==========================  ==========================================
kind           Prometheus type             series
=============  ==========================  ==========================================
u64_counter    counter                     ``ceph_<logger>_<counter>_total``
u64            gauge                       ``ceph_<logger>_<counter>``
time           counter (seconds)           ``ceph_<logger>_<counter>_total``
time_avg       summary                     ``..._count`` and ``..._sum`` (seconds)
=============  ==========================  ==========================================

``<logger>`` is the perf logger lower-cased with other characters as ``_`` and a
trailing instance number moved to a label: ``AsyncMessenger::Worker-0`` is
``ceph_asyncmessenger_worker_...{instance="0"}``, ``throttle-msgr_dispatch_throttler-x``
is ``ceph_throttle_...{throttle="msgr_dispatch_throttler-x"}``, ``objecter`` is
``ceph_objecter_...``. Every series has ``ceph_daemon="<the context's name>"``, as
the series of Ceph's manager module do. (``time_avg`` is what Ceph calls a
long-running average: a count and a sum, which is Prometheus's summary without
quantiles; asyncmsgr's counters have no histogram kind.)
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from asyncmsgr.config import parse_host_port

if TYPE_CHECKING:
    from asyncmsgr.context import Context

logger = logging.getLogger("asyncmsgr.perfcounter")

_NOT_NAME = re.compile(r"[^a-zA-Z0-9_]+")
_INSTANCE = re.compile(r"(.*?)-(\d+)")


def metric_prefix(perf_logger: str) -> tuple[str, dict[str, str]]:
    """``(name prefix, labels)`` of a perf logger (see the module docstring)."""
    if perf_logger.startswith("throttle-"):
        return "ceph_throttle", {"throttle": perf_logger[len("throttle-"):]}
    labels: dict[str, str] = {}
    match = _INSTANCE.fullmatch(perf_logger)
    base = perf_logger
    if match is not None:
        base, labels["instance"] = match.group(1), match.group(2)
    return "ceph_" + _NOT_NAME.sub("_", base).strip("_").lower(), labels


class PerfCollector:
    """A ``prometheus_client`` collector reading a context's counters at each scrape."""

    def __init__(self, context: Context) -> None:
        self.context = context

    def collect(self) -> Iterator[Any]:
        """The metric families (called by the registry on each scrape)."""
        from prometheus_client.core import (  # noqa: PLC0415  (optional extra)
            CounterMetricFamily,
            GaugeMetricFamily,
            SummaryMetricFamily,
        )

        families: dict[str, Any] = {}
        daemon = self.context.name
        schema = self.context.perf_schema()
        for perf_logger, counters in self.context.perf_dump().items():
            prefix, labels = metric_prefix(perf_logger)
            label_names = ["ceph_daemon", *labels]
            label_values = [daemon, *labels.values()]
            for counter, value in counters.items():
                spec = schema.get(perf_logger, {}).get(counter, {})
                type_bits = int(str(spec.get("type", 2)))
                help_text = str(spec.get("description", "")) or counter
                name = f"{prefix}_{_NOT_NAME.sub('_', counter)}"
                family = families.get(name)
                if type_bits & 4 and isinstance(value, dict):  # LONGRUNAVG: count + sum
                    if family is None:
                        family = families[name] = SummaryMetricFamily(
                            name, help_text, labels=label_names)
                    family.add_metric(label_values, count_value=int(value["avgcount"]),
                                      sum_value=float(value["sum"]))
                elif type_bits & 8 or type_bits & 1:  # COUNTER, or TIME (seconds so far)
                    if family is None:
                        family = families[name] = CounterMetricFamily(
                            name, help_text, labels=label_names)
                    family.add_metric(label_values, float(value))  # type: ignore[arg-type]
                else:
                    if family is None:
                        family = families[name] = GaugeMetricFamily(
                            name, help_text, labels=label_names)
                    family.add_metric(label_values, float(value))  # type: ignore[arg-type]
        yield from families.values()


class PrometheusExporter:
    """An HTTP server answering ``/metrics`` for one context (its own thread)."""

    def __init__(self, context: Context, host: str, port: int) -> None:
        from prometheus_client import CollectorRegistry, start_http_server  # noqa: PLC0415

        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(PerfCollector(context))
        self._server, self._thread = start_http_server(port, addr=host,
                                                       registry=self.registry)
        self.host = host
        self.port: int = int(self._server.server_port)
        """The port serving (the one chosen when 0 was asked for)."""

    def __repr__(self) -> str:
        return f"<PrometheusExporter {self.url}>"

    @property
    def url(self) -> str:
        """``http://HOST:PORT/metrics``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/metrics"

    def shutdown(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def start_exporter(context: Context, addr: str) -> PrometheusExporter | None:
    """Serve ``context``'s counters on ``addr`` (``HOST:PORT``); None, with an error
    logged, when ``prometheus-client`` is missing or the address cannot be bound."""
    try:
        host, port = parse_host_port(addr)
    except ValueError as exc:
        logger.error("asyncmsgr_prometheus_addr: %s", exc)
        return None
    try:
        exporter = PrometheusExporter(context, host, port)
    except ImportError:
        logger.error("asyncmsgr_prometheus_addr=%s needs prometheus-client "
                     "(pip install 'asyncmsgr[prometheus]')", addr)
        return None
    except OSError as exc:
        logger.error("cannot serve metrics on %s: %s", addr, exc.strerror or exc)
        return None
    logger.info("serving the perf counters on %s", exporter.url)
    return exporter


__all__ = ["PerfCollector", "PrometheusExporter", "metric_prefix", "start_exporter"]
