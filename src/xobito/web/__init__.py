"""The browser side: the dashboard, server-rendered pages under ``/app`` (Jinja2 + htmx)
calling the same domain services as the API (start at ``app.py``; the page pattern is in
``render.py``), and static files under ``/static`` (``assets.py``), shared with the API
docs pages."""
