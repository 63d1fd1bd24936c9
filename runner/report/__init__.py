"""Client reports built from the ledger: the monthly report, the fleet report and resolution reports.

Everything is read from the ledger and the client's inventory now; nothing runs again. See
:mod:`runner.report.build` (the JSON form), :mod:`runner.report.render` (HTML, PDF, Markdown) and
:mod:`runner.report.i18n` (English, Spanish, Catalan).
"""
