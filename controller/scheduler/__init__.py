"""The scheduler: places pods on nodes. `run_scheduler(config, options)` runs it until cancelled."""

from controller.options import SchedulerOptions
from controller.scheduler.run import run_scheduler

__all__ = ["SchedulerOptions", "run_scheduler"]
