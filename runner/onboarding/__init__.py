"""The onboarding audit's registers: risks (:mod:`runner.onboarding.risks`) and the roadmap
(:mod:`runner.onboarding.roadmap`, chained table ``roadmap_events``)."""
