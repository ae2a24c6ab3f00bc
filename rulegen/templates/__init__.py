"""Jinja2 templates of the runbooks and the Alertmanager notification
templates (loaded by ``rulegen.templating``)."""
