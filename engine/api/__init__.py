"""The HTTP API: FastAPI routers, request/response schemas, error handlers."""
