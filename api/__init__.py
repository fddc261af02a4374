"""The ASGI application, settings, authentication and the command line."""
