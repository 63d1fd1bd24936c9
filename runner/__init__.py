"""maint: preventive IT maintenance as code.

Roles collect, evaluators judge, the ledger remembers, reports tell.
"""

__version__ = "0.1.0"
