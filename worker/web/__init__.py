"""The worker's web app: server-rendered pages (Jinja2), a little htmx, loopback only."""
