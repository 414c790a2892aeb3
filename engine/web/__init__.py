"""The pages people use: the agent console (``/console``) and the customer help widget (``/widget``).

Both are served by the same app as the API, server-rendered with Jinja2 plus plain JavaScript from
``engine/web/static``: nothing is fetched from another site at run time, so they work on an air-gapped
network exactly as on the internet.
"""
