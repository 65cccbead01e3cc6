"""The HTTP gateway (`xinfang api`): contract v1 over HTTP and the petitioner's endpoints, on
FastAPI. Handlers translate HTTP to the services and back, and decide nothing themselves."""

from dispatcher.adapters.http.api import create_api

__all__ = ["create_api"]
