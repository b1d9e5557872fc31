"""The desk's HTTP server thread: the runtime's, under the name the desk has always imported."""

from runtime.asgi import ServerThread

__all__ = ["ServerThread"]
