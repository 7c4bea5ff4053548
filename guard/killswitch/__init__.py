"""The kill switch: scoped switches that stop traffic fleet-wide, with an automatic breaker.

  settings.py  the `killswitch:` config section (KillSwitchSettings, BreakerRule)
  model.py     scopes, entries, and the index the gate matches requests against
  store.py     the store protocol, the state file, the embedded store (memory + state_dir file)
  redis_store.py  the Redis store (the fleet's shared state)
  held.py      switches held unsaved on a full volume, shared by a `--workers` group
  service.py   KillSwitchService: the gate (guard.types.Gate), engage/release, TTL, audit
  breaker.py   Breaker: trips switches on bursts of incidents
  api.py       /admin/killswitch routes;  cli.py: `guard killswitch ...`
  wiring.py    how guard.app builds, starts and mounts all of the above

Nothing is imported here, so `guard.config` can import the settings without pulling in Redis.
"""
