"""Helpers shared by every test folder: fakes, event builders and loaders."""
