"""Fixtures of the delivery component tests: provisioner settings and example specs."""

from tests.support.provisioner_settings import settings_for, spec_for

__all__ = ["settings_for", "spec_for"]
