"""The server's public API: REST resources under /api/v1/ and the WebSocket event stream.

docs/api.md is the contract. One route table (routes.py) drives both the dispatcher (http.py)
and the OpenAPI document (openapi.py); handlers.py only parses, checks and calls the services.
"""
