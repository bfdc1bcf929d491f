"""Provisioning: local services for development and tests; cloud resources come later."""
