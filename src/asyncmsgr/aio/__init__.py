"""The asyncio layer: event centers, workers, and (later) connections and listeners.

Import the submodules directly (``from asyncmsgr.aio.event_center import WorkerPool``);
this package re-exports nothing.
"""
