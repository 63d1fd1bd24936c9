"""Asset facts: what each host *is* (hardware, OS, software, addresses), recorded apart from check results.

- :mod:`runner.assets.facts`: the one shape every platform's facts take, validated, and their content hash;
- :mod:`runner.assets.store`: the chained ledger table ``asset_facts`` (one row per host per run when the
  facts changed) and reading it back;
- collectors: roles ``linux_assets`` and ``windows_assets`` (their facts reach the ledger through the
  ``maint_assets`` key of a task result, read by :func:`runner.events.from_event`), and network devices'
  ``show version``-class outputs fetched in the same SSH session as the configuration.
"""
