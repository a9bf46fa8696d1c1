"""Where stacks live and how the pulumi CLI runs here: backend, secrets provider, home and environment.

Changes with the provisioner image's layout or the CLI's environment variables.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

from pulumi import automation as auto

from lambda_src.provisioner.settings import PROJECT_NAME, ProvisionerSettings
from lambda_src.provisioner.state_layout import StackPlace, StateLayout


@dataclass(frozen=True)
class RunnerConfig:
    """Where stacks live and how the CLI runs; built from ProvisionerSettings in production."""

    backend_url: str
    secrets_provider: str
    pulumi_home: str
    baked_pulumi_home: str | None = None
    pulumi_root: str | None = None
    project_name: str = PROJECT_NAME
    layout: StateLayout | None = None
    """Where each stack lives (state_layout); None keeps every stack at `backend_url`."""
    moves_legacy_stacks: bool = False
    """Whether this runner's role may move target stacks of earlier versions (the provisioner's may;
    a deploy build's may not, and refuses to run beside an unmoved one)."""

    @classmethod
    def from_settings(cls, settings: ProvisionerSettings, *, moves_legacy_stacks: bool = True) -> RunnerConfig:
        return cls(
            backend_url=settings.backend_url,
            secrets_provider=settings.secrets_provider,
            pulumi_home=settings.pulumi_home,
            baked_pulumi_home=settings.baked_pulumi_home,
            pulumi_root=settings.pulumi_root,
            layout=StateLayout.from_settings(settings),
            moves_legacy_stacks=moves_legacy_stacks,
        )

    def place_of(self, stack_name: str) -> StackPlace:
        """Where `stack_name` lives: its layout's place, or `backend_url` when there is no layout."""
        if self.layout is None:
            return StackPlace(self.backend_url, self.secrets_provider)
        return self.layout.place_of(stack_name)

    def at(self, place: StackPlace) -> RunnerConfig:
        """The same CLI settings, with every stack at `place` (what a move opens each side with)."""
        return replace(self, backend_url=place.backend_url, secrets_provider=place.secrets_provider, layout=None)

    def env_vars(self) -> dict[str, str]:
        """Environment of every CLI invocation: no update checks, no plugin downloads, a writable home."""
        env = {
            "PULUMI_HOME": self.pulumi_home,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            # The CLI is pinned to the SDK's version in the image, so the SDK need not check it.
            "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "true",
            # Plugins are baked into the image; a missing one must fail, never be fetched.
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            # Each run has a fresh workspace without Pulumi.<stack>.yaml: take the KMS secrets
            # provider recorded in the stack's state instead of falling back to a passphrase.
            "PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER": "true",
        }
        if not os.environ.get("HOME"):
            # Lambda sets no HOME; the CLI and the AWS SDK look there for optional files.
            env["HOME"] = "/tmp"
        return env


def prepare_pulumi_home(home: str, baked_home: str | None) -> None:
    """A writable PULUMI_HOME whose plugins are the ones baked into the image.

    Lambda's image filesystem is read-only, so PULUMI_HOME lives under /tmp; the aws plugin is
    linked rather than copied (hundreds of MB) and is never downloaded at run time.
    """
    os.makedirs(home, exist_ok=True)
    if not baked_home:
        return
    baked_plugins = os.path.join(baked_home, "plugins")
    plugins = os.path.join(home, "plugins")
    if os.path.isdir(baked_plugins) and not os.path.lexists(plugins):
        os.symlink(baked_plugins, plugins)


def workspace_options(
    config: RunnerConfig, work_dir: str, pulumi_command: auto.PulumiCommand, place: StackPlace | None = None
) -> auto.LocalWorkspaceOptions:
    """A local workspace of our project in `work_dir`, with its home prepared for the CLI, for the
    stacks at `place` (by default: `config`'s backend and secrets provider)."""
    prepare_pulumi_home(config.pulumi_home, config.baked_pulumi_home)
    place = place or StackPlace(config.backend_url, config.secrets_provider)
    return auto.LocalWorkspaceOptions(
        work_dir=work_dir,
        pulumi_home=config.pulumi_home,
        env_vars=config.env_vars(),
        secrets_provider=place.secrets_provider,
        project_settings=auto.ProjectSettings(
            name=config.project_name,
            runtime="python",
            backend=auto.ProjectBackend(url=place.backend_url),
        ),
        pulumi_command=pulumi_command,
    )
