"""Pulumi program: read the stack's typed config, build its components, export their outputs."""

import pulumi

from components.stack import build_stack, deploy_role_external_id, read_stack_config

config = read_stack_config()
exports = build_stack(config, external_id=deploy_role_external_id())
for name, value in exports.items():
    pulumi.export(name, value)
