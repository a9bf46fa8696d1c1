"""Code that runs inside AWS Lambda and CodeBuild. Only the provisioner may import pulumi."""
