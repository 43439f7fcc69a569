"""The web server: the FastAPI app and its socket, HTTP guards, telemetry and the scene store."""
