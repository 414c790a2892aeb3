"""Training the topic and urgency heads on a helpdesk's own tickets: exports read, feedback merged, heads fitted.

Serving never imports this package; the CLI's ``sift train`` and the first-run bootstrap do.
"""
