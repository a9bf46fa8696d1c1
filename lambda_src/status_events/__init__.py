"""The status function: CodePipeline state changes -> the registry's normalised status and SNS emails."""
