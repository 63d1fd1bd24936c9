"""Development and demo tools of maint, shipped beside the runtime package ``runner`` but not part of it.

``maint_devtools.simulator`` serves simulated network devices over SSH on 127.0.0.1 (the tests, ``maint
simulators`` and the demo client's ``network_config_simulated`` devices). ``runner`` imports this package
only on those paths, never at start-up.
"""
