"""The kill switch: scoped switches that stop traffic fleet-wide, with an automatic breaker.

`KillSwitchService` is the gate the proxy consults on every request (guard.types.Gate);
`build_service` wires it to the embedded store or to Redis.
"""

from guard.killswitch.breaker import Breaker
from guard.killswitch.service import KillSwitchService, ReleaseResult, build_service
from guard.killswitch.settings import BreakerRule, KillSwitchSettings

__all__ = [
    "Breaker",
    "BreakerRule",
    "KillSwitchService",
    "KillSwitchSettings",
    "ReleaseResult",
    "build_service",
]
